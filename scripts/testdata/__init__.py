"""Seeded builders of credit files: one home for the tests, the format fixtures and the benchmark.

Every builder is deterministic: the same arguments (and seed) give the same bytes, so fixtures can be
regenerated from the repository alone (`tests/fixtures/formats/make_fixtures.py`) and the benchmark
measures the same input on every run.

- `encode`: CSV text, gzip and zip with fixed times, Parquet from string cells (map columns from JSON).
- `headerless`: the monthly `account,amount` file and the wide back-fill `account,m1,m2,...`.
- `cur`: the legacy CUR (`lineItem/UsageAccountId`), CUR 2.0 / Athena (`line_item_usage_account_id`).
- `focus`: FOCUS 0.5 to 1.4 tables and AWS's FOCUS 1.2 with AWS columns.
- `cost_explorer`: the Cost Explorer console's CSV download and `GetCostAndUsage` responses.
- `billing`: the legacy monthly billing report (the invoice CSV) and its total rows.
- `allocation`: `GetCreditAllocationHistory` entries and the shapes they are saved in.
- `expected`: what a generated file must read as (per month: accounts and total).

Importable as `testdata` (pytest's pythonpath and mypy's mypy_path include scripts/).
"""
