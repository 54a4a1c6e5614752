"""What `make bench` measures: the cases, their seeded inputs, their floors and their targets.

Targets are the team's. A time target is a ratio to the floor measured in the same run; a memory
target is the function's peak resident memory. Every function case is also held to its MemorySize
from template.yaml. Today's code misses several of them: another piece of work makes it faster.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, Literal

from testdata.cur import write_cur2_csv, write_cur2_parquet, write_legacy_cur
from testdata.expected import Expected
from testdata.focus import write_aws_focus_csv
from testdata.headerless import write_monthly_file

SEED = 20260101
COLD_START_SECONDS = 0.200
# Loaded only when a file needs them (Parquet, the columnar readers), never at a handler's cold start;
# nor pydantic-settings (it pulls in argparse): the settings are read with plain pydantic; nor s3transfer,
# which boto3's S3 client loads and nothing uses (adapters.aws_clients). The import test
# (tests/integration/test_cold_start_imports.py) holds each handler to this list too.
NOT_AT_COLD_START = ("pyarrow", "duckdb", "pydantic_settings", "boto3.s3")
# Unzipped, the function with its requirements and the layer (MB = 10^6 bytes); the pusher and the
# watchdog are held to Lambda's own limit of 250 MB.
PACKAGE_MB = {"splitter": 120, "pusher": 250, "watchdog": 250}


@dataclass(frozen=True)
class Sizes:
    name: str
    small_accounts: int
    large_accounts: int
    cur_rows: tuple[int, ...]
    cur_accounts: int
    parquet_rows: tuple[int, ...]
    pusher_accounts: tuple[int, ...]
    cold_start_runs: int


# Small enough for seconds, big enough for the same paths: the download spills past the 8 MB spool.
QUICK = Sizes("quick", 1_000, 20_000, (20_000,), 200, (20_000,), (5_000,), 1)
STANDARD = Sizes("standard", 10_000, 1_000_000, (1_000_000,), 2_000, (1_000_000,), (100_000, 1_000_000), 5)
FULL = replace(STANDARD, name="full", cur_rows=(1_000_000, 10_000_000), parquet_rows=(1_000_000, 10_000_000))


@dataclass(frozen=True)
class Target:
    floor_ratio: float | None = None  # the path's wall seconds over its floor's, at most
    peak_mib: float | None = None  # peak resident memory of the function's process, at most


@dataclass(frozen=True)
class Input:
    file_name: str  # a headerless file's month comes from its name
    key: str  # where it is uploaded
    build: Callable[[Path], Expected]  # writes the file, says what it must read as
    weight: int  # how long writing it takes, roughly (rows, a CUR row counting 5): the longest go first


@dataclass(frozen=True)
class PathCase:
    name: str
    size: str
    function: Literal["splitter", "pusher"]
    input: Input
    floor: Literal["csv", "parquet"] | None
    target: Target


def path_cases(sizes: Sizes) -> list[PathCase]:
    def monthly(accounts: int, seed: int) -> Input:
        name = "credits-2026-01.csv"
        build = partial(_monthly, accounts=accounts, seed=seed)
        # The seed in the name too: a splitter case and a pusher case may have as many accounts.
        return Input(f"{accounts}-{seed}-{name}", f"incoming/{name}", build, weight=accounts)

    # Each table as AWS delivers it: gzip CSV, at the same sizes (the writer, the file, where it is uploaded).
    tables = (
        ("splitter CUR CSV gzip", write_legacy_cur, "cur", "incoming/cur/20240901-20241201/cur-00001.csv.gz"),
        ("splitter CUR 2.0 CSV gzip", write_cur2_csv, "cur2", "incoming/cur2/data/cur2-00001.csv.gz"),
        ("splitter FOCUS 1.2 CSV gzip", write_aws_focus_csv, "focus", "incoming/focus/data/focus-00001.csv.gz"),
    )
    cur = [
        PathCase(
            name,
            f"{human(rows)} rows",
            "splitter",
            Input(
                f"{prefix}-{rows}.csv.gz",
                key,
                partial(write, rows=rows, accounts=sizes.cur_accounts, seed=SEED + 3),
                weight=rows * 5,
            ),
            "csv",
            Target(floor_ratio=0.5, peak_mib=300),
        )
        for name, write, prefix, key in tables
        for rows in sizes.cur_rows
    ]
    parquet = [
        PathCase(
            "splitter CUR 2.0 Parquet",
            f"{human(rows)} rows",
            "splitter",
            Input(
                f"cur2-{rows}.parquet",
                "incoming/cur2/data/cur2-00001.snappy.parquet",
                partial(write_cur2_parquet, rows=rows, accounts=sizes.cur_accounts, seed=SEED + 4),
                weight=rows * 5,
            ),
            "parquet",
            Target(floor_ratio=1.0),
        )
        for rows in sizes.parquet_rows
    ]
    return [
        PathCase(
            "splitter headerless",
            f"{human(sizes.small_accounts)} accounts",
            "splitter",
            monthly(sizes.small_accounts, SEED + 1),
            "csv",
            Target(floor_ratio=5.0),
        ),
        PathCase(
            "splitter headerless",
            f"{human(sizes.large_accounts)} accounts",
            "splitter",
            monthly(sizes.large_accounts, SEED + 2),
            "csv",
            Target(floor_ratio=2.0, peak_mib=300),
        ),
        *cur,
        *parquet,
        *(
            PathCase(
                "pusher one month",
                f"{human(accounts)} accounts",
                "pusher",
                monthly(accounts, SEED + 5),
                None,
                Target(peak_mib=128),  # the same whatever the month's size
            )
            for accounts in sizes.pusher_accounts
        ),
    ]


def _monthly(path: Path, accounts: int, seed: int) -> Expected:
    return write_monthly_file(path, accounts, seed, month="2026-01")


FLOOR_NAMES = {"csv": "csv.reader loop", "parquet": "pyarrow filter+group-by"}


def splitter_problems(expected: Expected, result: dict[str, Any]) -> list[str]:
    """What the splitter got wrong: the file's status and format, and each month's accounts and total as queued."""
    problems = []
    statuses = [file["status"] for file in result["result"].get("files", [])]
    if statuses != ["pending"]:
        problems.append(f"file status {statuses}, expected ['pending'] (accepted, months queued)")
    queued = result["months"]
    if sorted(queued) != sorted(expected.months):
        problems.append(f"months queued {sorted(queued)}, expected {sorted(expected.months)}")
    formats = {month["format"] for month in queued.values()}
    if formats and formats != {expected.format_id}:
        problems.append(f"read as {sorted(formats)}, expected {expected.format_id}")
    for month, wanted in expected.months.items():
        got = queued.get(month)
        if got and (got["accounts"], Decimal(got["total"])) != (wanted.accounts, wanted.total):
            problems.append(
                f"{month}: {got['accounts']} accounts, total {got['total']}; expected {wanted.accounts}, {wanted.total}"
            )
    return problems


def pusher_problems(expected: Expected, result: dict[str, Any]) -> list[str]:
    """What the pusher got wrong: the month must be pushed, CloudZero must hold one row per account."""
    problems = []
    wanted = expected.months[result["month"]]
    if result["result"].get("batchItemFailures"):
        problems.append(f"batch item failures {result['result']['batchItemFailures']}")
    if result["status"] != "pushed":
        problems.append(f"month status {result['status']}, expected pushed")
    if result["rows_held"] != wanted.accounts:
        problems.append(f"CloudZero holds {result['rows_held']} rows, expected {wanted.accounts}")
    if Decimal(result["pushed_total"]) != wanted.total:
        problems.append(f"pushed total {result['pushed_total']}, expected {wanted.total}")
    return problems


def human(count: int) -> str:
    for unit, scale in (("M", 1_000_000), ("k", 1_000)):
        if count >= scale:
            value = count / scale
            return f"{value:g}{unit}" if value == int(value) else f"{value:.1f}{unit}"
    return str(count)
