"""The speed and memory benchmark (`make bench`): measure, print a table, exit 1 when a target is missed.

The team rule: speed and memory targets are measured here, never by timed tests. Every input is
generated into a temporary directory (seeded: the same bytes on every run); nothing goes to the
network but moto's server on loopback.

    python scripts/benchmark.py                  # full sizes: a few minutes on 2 cores
    python scripts/benchmark.py --quick          # small sizes: a smoke run in seconds
    python scripts/benchmark.py --json out.json  # the results as JSON too

| measurement | what | target |
|---|---|---|
| headerless | `read_credit_file` on `account,amount` files of 1k, 100k, 1M distinct accounts | correct result |
| headerless memory scaling | peak bytes per account, largest file against the middle one | at most 1.25x |
| cur-legacy-csv | legacy CUR, gzip CSV, 1M rows, 1% Credit rows, 2,000 accounts, 3 months | < 60 s, peak < 200 MB |
| cur2-parquet | CUR 2.0 Parquet, 1M rows (peak also as RSS growth and pyarrow's pool) | correct result |
| s3-download | `ObjectStore.download` of a 200 MB object from moto's server | peak < 50 MB |
| drop-bodies | `cbf.drop_bodies` for one month of 50,000 accounts | every body <= 5,000,000 B |
| import splitter, pusher | `python -X importtime -c "import credits_pipeline.<module>"` | report |
| pyarrow-lazy | importing `credits_pipeline.formats` (and the format registry) loads no pyarrow | hard check |

How: each measurement runs in a fresh interpreter (this script's hidden `--child` mode), so one
measurement's memory cannot hide in another's and RSS growth means something. Seconds come from
a run without tracemalloc (it slows allocation-heavy parsing about six-fold); peak MB from a second
run of the same work under tracemalloc ("peak Python memory": what pyarrow allocates natively is
not in it, hence the RSS growth and pyarrow-pool peak for Parquet; RSS is VmHWM, reset before the
run, as getrusage's ru_maxrss keeps the parent's size across exec). The inputs are written and
the traced runs (whose time is not reported) go two at a time; timed runs go one at a time. With
`--quick` everything goes two at a time, both runs in one child: its seconds are rough. Parsing
reads the generated file from disk, as the splitter reads its spooled download (moto's server
runs in this process, not in the measured child). MB = 10**6 bytes.
"""

import argparse
import contextlib
import gc
import gzip
import hashlib
import importlib
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

SCRIPTS = Path(__file__).resolve().parent
REPO = SCRIPTS.parent
if str(SCRIPTS) not in sys.path:  # local_stack lives next to this script
    sys.path.insert(0, str(SCRIPTS))

from credits_pipeline.domain.cbf import MAX_BODY_BYTES, drop_bodies  # noqa: E402
from credits_pipeline.domain.credits import AccountCredit, CreditFile, MonthCredits  # noqa: E402
from credits_pipeline.domain.messages import FileRef, MonthBatch  # noqa: E402
from credits_pipeline.formats import ParseConfig, read_credit_file  # noqa: E402

STARTED = time.perf_counter()
MB = 1_000_000
CHILD_TIMEOUT = 1800
RESULT_MARK = "BENCH-RESULT "
BUCKET = "credits-bench"
SEED = 20260101

CUR_SECONDS_TARGET = 60.0
CUR_PEAK_MB_TARGET = 200.0
DOWNLOAD_PEAK_MB_TARGET = 50.0
SCALING_TARGET = 1.25


@dataclass(frozen=True)
class Sizes:
    headerless_rows: tuple[int, ...]
    cur_rows: int
    cur_accounts: int
    parquet_rows: int
    download_mb: int
    drop_accounts: int
    import_runs: int


FULL = Sizes((1_000, 100_000, 1_000_000), 1_000_000, 2_000, 1_000_000, 200, 50_000, 3)
# Big enough to exercise the same paths: the download spills past the 8 MB spool, the month splits.
QUICK = Sizes((1_000, 2_000, 10_000), 10_000, 200, 10_000, 16, 30_000, 1)


@dataclass
class Result:
    name: str
    size: str
    seconds: float | None
    rate: float | None
    rate_unit: str
    peak_mb: float | None
    target: str
    status: str  # PASS, FAIL, or "-" when only reported
    details: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Expected:
    """What a generated file must parse to: a benchmark of a wrong answer measures nothing."""

    format_id: str
    credit_rows: int
    ignored_rows: int
    accounts: int  # account credits over all months (distinct month, account, service, description)
    months: int
    total: Decimal

    def mismatches(self, parsed: dict[str, Any]) -> list[str]:
        wanted: dict[str, Any] = {
            "format_id": self.format_id,
            "credit_rows": self.credit_rows,
            "ignored_rows": self.ignored_rows,
            "accounts": self.accounts,
            "months": self.months,
        }
        wrong = [
            f"{name} {parsed.get(name)!r}, expected {value!r}"
            for name, value in wanted.items()
            if parsed.get(name) != value
        ]
        if Decimal(str(parsed.get("total", "NaN"))) != self.total:
            wrong.append(f"total {parsed.get('total')}, expected {self.total}")
        return wrong


@dataclass(frozen=True)
class ParseCase:
    name: str
    size: str
    path: Path
    key: str
    rows: int
    expected: Expected
    preload_pyarrow: bool = False
    max_seconds: float | None = None
    max_peak_mb: float | None = None


# --- generated inputs ---------------------------------------------------------------------------


def write_headerless(path: Path, rows: int, seed: int) -> Expected:
    """The monthly file: distinct accounts, amounts as people write them (`"$6,407.96"`, `-$100.00`)."""
    rng = random.Random(seed)
    accounts = rng.sample(range(1, 10**12), rows)
    total_cents = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        lines: list[str] = []
        for number, account in enumerate(accounts):
            cents = int(10 ** rng.uniform(2, 8))  # $1.00 .. $1,000,000.00, log-uniform
            total_cents += cents
            lines.append(f"{account:012d},{_dollars(cents, negative=number % 50 == 7)}\n")
            if len(lines) >= 10_000:
                out.write("".join(lines))
                lines.clear()
        out.write("".join(lines))
    return Expected("headerless/1", rows, 0, rows, 1, -Decimal(total_cents).scaleb(-2))


def _dollars(cents: int, *, negative: bool) -> str:
    text = f"{'-' if negative else ''}${cents // 100:,}.{cents % 100:02d}"
    return f'"{text}"' if "," in text else text


# The legacy CUR's columns, as in tests/fixtures/formats/cur-legacy/cur-2024-09.csv.
CUR_HEADER = (
    "identity/LineItemId,identity/TimeInterval,bill/InvoiceId,bill/BillingEntity,bill/BillType,"
    "bill/PayerAccountId,bill/BillingPeriodStartDate,bill/BillingPeriodEndDate,lineItem/UsageAccountId,"
    "lineItem/LineItemType,lineItem/UsageStartDate,lineItem/UsageEndDate,lineItem/ProductCode,lineItem/UsageType,"
    "lineItem/Operation,lineItem/ResourceId,lineItem/UsageAmount,lineItem/CurrencyCode,lineItem/UnblendedRate,"
    "lineItem/UnblendedCost,lineItem/BlendedCost,lineItem/LineItemDescription,product/ProductName,product/region"
)
CUR_MONTHS = ((2024, 9), (2024, 10), (2024, 11))
# product code, product name, usage type, operation, usage description (no commas: no CSV quoting)
PRODUCTS = (
    (
        "AmazonEC2",
        "Amazon Elastic Compute Cloud",
        "USW2-BoxUsage:m5.large",
        "RunInstances",
        "$0.096 per On Demand Linux m5.large Instance Hour",
    ),
    (
        "AmazonS3",
        "Amazon Simple Storage Service",
        "USW2-TimedStorage-ByteHrs",
        "StandardStorage",
        "$0.023 per GB - first 50 TB / month of storage used",
    ),
    ("AWSLambda", "AWS Lambda", "USW2-Lambda-GB-Second", "Invoke", "AWS Lambda - Total Compute - US West (Oregon)"),
    (
        "AmazonRDS",
        "Amazon Relational Database Service",
        "USW2-InstanceUsage:db.r5.large",
        "CreateDBInstance",
        "$0.25 per RDS db.r5.large instance hour running PostgreSQL",
    ),
    (
        "AmazonCloudWatch",
        "AmazonCloudWatch",
        "USW2-CW:MetricMonitorUsage",
        "MetricStorage",
        "$0.30 per metric-month - first 10000 metrics",
    ),
)
CREDIT_DESCRIPTIONS = ("AWS Activate Credits", "AWS Promotional Credit")
# Non-credit row types, weighted out of 100: ignored by the format, counted in the report.
OTHER_TYPES = tuple(
    row_type
    for row_type, weight in (
        ("Usage", 82),
        ("DiscountedUsage", 5),
        ("SavingsPlanCoveredUsage", 5),
        ("Tax", 3),
        ("EdpDiscount", 2),
        ("Fee", 1),
        ("RIFee", 1),
        ("SavingsPlanNegation", 1),
    )
    for _ in range(weight)
)
COST_UNIT = 10**10  # CUR costs carry ten decimals


@dataclass(frozen=True, slots=True)
class LineItem:
    month: int  # index into CUR_MONTHS
    day: int
    hour: int
    account: str
    row_type: str
    product: int
    cost_units: int  # cost in 1e-10 dollars, signed as AWS writes it (credits negative)
    description: str
    line_id: str


def cur_line_items(rows: int, accounts: int, seed: int) -> Iterator[LineItem]:
    """CUR line items: 1% Credit rows (a few positive reversals), the rest usage, tax, fees, discounts."""
    rng = random.Random(seed)
    pool = [f"{account:012d}" for account in rng.sample(range(1, 10**12), accounts)]
    for number in range(rows):
        product = rng.randrange(len(PRODUCTS))
        if number % 100 == 37:
            row_type = "Credit"
            magnitude = rng.randrange(10**7, 10**12)  # $0.001 .. $100
            cost = magnitude if rng.random() < 0.03 else -magnitude
            description = CREDIT_DESCRIPTIONS[rng.randrange(2)]
        else:
            row_type = OTHER_TYPES[rng.randrange(100)]
            cost = rng.randrange(0, 10**11)
            if row_type in ("EdpDiscount", "SavingsPlanNegation"):
                cost = -cost
            description = PRODUCTS[product][4] if row_type != "Tax" else f"Tax for product code {PRODUCTS[product][0]}"
        yield LineItem(
            number % 3,
            1 + rng.randrange(28),
            rng.randrange(24),
            pool[rng.randrange(accounts)],
            row_type,
            product,
            cost,
            description,
            f"{rng.getrandbits(208):052x}",
        )


class CreditTally:
    """The expected outcome of a CUR: credits summed per (month, account, service, description)."""

    def __init__(self) -> None:
        self.sums: dict[tuple[int, str, str, str], Decimal] = {}
        self.credit_rows = 0
        self.rows = 0

    def add(self, item: LineItem, cost: Decimal) -> None:
        self.rows += 1
        if item.row_type != "Credit":
            return
        self.credit_rows += 1
        key = (item.month, item.account, PRODUCTS[item.product][0], item.description)
        self.sums[key] = self.sums.get(key, Decimal(0)) + cost

    def expected(self, format_id: str) -> Expected:
        kept = [cost for cost in self.sums.values() if cost != 0]
        months = len({month for month, *_ in self.sums})
        return Expected(
            format_id, self.credit_rows, self.rows - self.credit_rows, len(kept), months, sum(kept, Decimal(0))
        )


def _units(value: int) -> str:
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // COST_UNIT}.{abs(value) % COST_UNIT:010d}"


def write_cur_legacy(path: Path, rows: int, accounts: int, seed: int) -> Expected:
    """A legacy CUR as AWS delivers it: gzip CSV, `category/Column` headers, hourly line items."""
    tally = CreditTally()
    periods = [
        (f"{year}-{month:02d}-01T00:00:00Z", f"{year + month // 12}-{month % 12 + 1:02d}-01T00:00:00Z")
        for year, month in CUR_MONTHS
    ]
    with gzip.open(path, "wt", encoding="utf-8", newline="", compresslevel=6) as out:
        out.write(CUR_HEADER + "\n")
        lines: list[str] = []
        for item in cur_line_items(rows, accounts, seed):
            interval = _interval(item)
            start, end = interval.split("/")
            code, name, usage_type, operation, _ = PRODUCTS[item.product]
            cost = _units(item.cost_units)
            tally.add(item, Decimal(cost))
            period_start, period_end = periods[item.month]
            lines.append(
                f"{item.line_id},{interval},EUINUS24-{item.month + 1}001,AWS,Anniversary,999988887777,"
                f"{period_start},{period_end},{item.account},{item.row_type},{start},{end},{code},{usage_type},"
                f"{operation},arn:aws:{code.lower()}:us-west-2:{item.account}:r-{item.line_id[:12]},1.0000000000,USD,"
                f"0.0960000000,{cost},{cost},{item.description},{name},us-west-2\n"
            )
            if len(lines) >= 10_000:
                out.write("".join(lines))
                lines.clear()
        out.write("".join(lines))
    return tally.expected("aws-cur/1")


def _interval(item: LineItem) -> str:
    year, month = CUR_MONTHS[item.month]
    day = f"{year}-{month:02d}-{item.day:02d}"
    return f"{day}T{item.hour:02d}:00:00Z/{day}T{item.hour:02d}:59:59Z"


def write_cur2_parquet(path: Path, rows: int, accounts: int, seed: int) -> Expected:
    """CUR 2.0 (Data Exports) as Parquet: snake_case columns, costs as doubles, timestamps, row groups."""
    import pyarrow as pa  # noqa: PLC0415 - only the generator needs pyarrow in this process
    import pyarrow.parquet as pq  # noqa: PLC0415

    tally = CreditTally()
    timestamp = pa.timestamp("ms", tz="UTC")
    schema = pa.schema(
        [
            ("bill_bill_type", pa.string()),
            ("bill_billing_entity", pa.string()),
            ("bill_billing_period_end_date", timestamp),
            ("bill_billing_period_start_date", timestamp),
            ("bill_invoice_id", pa.string()),
            ("bill_payer_account_id", pa.string()),
            ("bill_payer_account_name", pa.string()),
            ("identity_line_item_id", pa.string()),
            ("identity_time_interval", pa.string()),
            ("line_item_currency_code", pa.string()),
            ("line_item_line_item_description", pa.string()),
            ("line_item_line_item_type", pa.dictionary(pa.int32(), pa.string())),
            ("line_item_net_unblended_cost", pa.float64()),
            ("line_item_operation", pa.string()),
            ("line_item_product_code", pa.string()),
            ("line_item_resource_id", pa.string()),
            ("line_item_unblended_cost", pa.float64()),
            ("line_item_usage_account_id", pa.string()),
            ("line_item_usage_account_name", pa.string()),
            ("line_item_usage_amount", pa.float64()),
            ("line_item_usage_start_date", timestamp),
            ("line_item_usage_type", pa.string()),
            ("product_product_name", pa.string()),
        ]
    )
    starts = [datetime(year, month, 1, tzinfo=UTC) for year, month in CUR_MONTHS]
    ends = [datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC) for year, month in CUR_MONTHS]
    batch_rows = 262_144  # one row group per batch
    items = cur_line_items(rows, accounts, seed)
    with pq.ParquetWriter(path, schema) as writer:
        written = 0
        while written < rows:
            batch = [next(items) for _ in range(min(batch_rows, rows - written))]
            written += len(batch)
            costs = [item.cost_units / COST_UNIT for item in batch]
            for item, cost in zip(batch, costs, strict=True):
                tally.add(item, Decimal(repr(cost)))  # pyarrow reads doubles by their shortest form
            count = len(batch)
            columns: dict[str, Any] = {
                "bill_bill_type": ["Anniversary"] * count,
                "bill_billing_entity": ["AWS"] * count,
                "bill_billing_period_end_date": [ends[item.month] for item in batch],
                "bill_billing_period_start_date": [starts[item.month] for item in batch],
                "bill_invoice_id": [f"EUINUS25-{item.month + 1}001" for item in batch],
                "bill_payer_account_id": ["999988887777"] * count,
                "bill_payer_account_name": ["Example Payer"] * count,
                "identity_line_item_id": [item.line_id for item in batch],
                "identity_time_interval": [_interval(item) for item in batch],
                "line_item_currency_code": ["USD"] * count,
                "line_item_line_item_description": [item.description for item in batch],
                "line_item_line_item_type": [item.row_type for item in batch],
                "line_item_net_unblended_cost": costs,
                "line_item_operation": [PRODUCTS[item.product][3] for item in batch],
                "line_item_product_code": [PRODUCTS[item.product][0] for item in batch],
                "line_item_resource_id": [f"r-{item.line_id[:12]}" for item in batch],
                "line_item_unblended_cost": costs,
                "line_item_usage_account_id": [item.account for item in batch],
                "line_item_usage_account_name": [f"member-{item.account[-4:]}" for item in batch],
                "line_item_usage_amount": [1.0] * count,
                "line_item_usage_start_date": [
                    starts[item.month].replace(day=item.day, hour=item.hour) for item in batch
                ],
                "line_item_usage_type": [PRODUCTS[item.product][2] for item in batch],
                "product_product_name": [PRODUCTS[item.product][1] for item in batch],
            }
            writer.write_table(pa.table(columns, schema=schema))
    return tally.expected("aws-cur/2")


def write_blob(path: Path, size_mb: int, seed: int) -> str:
    """Incompressible bytes of the given size; their SHA-256."""
    rng = random.Random(seed)
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for _ in range(size_mb):
            chunk = rng.randbytes(MB)
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


# --- children: one measurement in a fresh interpreter ----------------------------------------------


def _proc_status(name: str) -> int | None:
    """A `/proc/self/status` memory figure (VmRSS, VmHWM) in bytes; None where there is no /proc."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{name}:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def start_rss() -> int:
    """Resident memory now, with the peak counter reset where Linux allows it."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    return _proc_status("VmRSS") or _max_rss()


def peak_rss() -> int:
    # VmHWM belongs to this process's memory map; getrusage's ru_maxrss is the fallback, and it carries
    # over the parent's resident size from before exec, so it can hide a child's own peak.
    return _proc_status("VmHWM") or _max_rss()


def _max_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


@dataclass
class Traced:
    peak: int = 0
    current: int = 0


class trace_memory:  # noqa: N801 - used like a function: `with trace_memory() as traced:`
    """tracemalloc around a block: the block's own peak of Python allocations, and what it kept."""

    def __enter__(self) -> Traced:
        gc.collect()
        self.traced = Traced()
        tracemalloc.start()
        return self.traced

    def __exit__(self, *_: object) -> None:
        self.traced.current, self.traced.peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()


def child_parse(spec: dict[str, Any]) -> dict[str, Any]:
    # What read_credit_file imports on its first call is start-up, not parsing: import it first.
    for module in ("credits_pipeline.formats.registry", "credits_pipeline.formats.containers"):
        importlib.import_module(module)
    if spec["preload_pyarrow"]:
        for module in ("pyarrow", "pyarrow.parquet", "pyarrow.compute"):
            importlib.import_module(module)
    path, key, mode = Path(spec["path"]), spec["key"], spec["mode"]
    out: dict[str, Any] = {"seconds": 0.0, "rss_growth_bytes": 0, "peak_bytes": 0, "retained_bytes": 0}
    if mode in ("time", "both"):
        gc.collect()
        rss_before = start_rss()
        started = time.perf_counter()
        with path.open("rb") as data:
            credit_file = read_credit_file(data, key, ParseConfig())
        out["seconds"] = time.perf_counter() - started
        out["rss_growth_bytes"] = max(0, peak_rss() - rss_before)
        out.update(_summary(credit_file))
        del credit_file  # the traced run starts from nothing kept
    if mode in ("trace", "both"):
        with trace_memory() as traced, path.open("rb") as data:
            credit_file = read_credit_file(data, key, ParseConfig())
        out.update(_summary(credit_file), peak_bytes=traced.peak, retained_bytes=traced.current)
    arrow = sys.modules.get("pyarrow")
    out["pyarrow_loaded"] = arrow is not None
    out["arrow_peak_bytes"] = int(arrow.default_memory_pool().max_memory() or 0) if arrow is not None else None
    return out


def _summary(credit_file: CreditFile) -> dict[str, Any]:
    return {
        "format_id": credit_file.format_id,
        "credit_rows": credit_file.credit_rows,
        "ignored_rows": credit_file.ignored_rows,
        "accounts": sum(len(month.credits) for month in credit_file.months.values()),
        "months": len(credit_file.months),
        "total": str(credit_file.total),
        "skipped_total": credit_file.skipped_total,
    }


def child_download(spec: dict[str, Any]) -> dict[str, Any]:
    import boto3  # noqa: PLC0415 - boto3 costs every other child 0.2 s of start-up

    from credits_pipeline.adapters.s3 import ObjectStore  # noqa: PLC0415

    client = boto3.client("s3")
    store = ObjectStore(client)
    client.head_object(Bucket=spec["bucket"], Key=spec["key"])  # credentials, endpoint, connection: not the download
    started = time.perf_counter()
    download = store.download(spec["bucket"], spec["key"])
    seconds = time.perf_counter() - started
    rolled = bool(getattr(download.data, "_rolled", False))
    sha256, size = download.sha256, download.size
    download.close()
    with trace_memory() as traced:
        download = store.download(spec["bucket"], spec["key"])
        download.close()
    return {
        "seconds": seconds,
        "peak_bytes": traced.peak,
        "sha256": sha256,
        "size": size,
        "spilled_to_disk": rolled,
    }


def child_drop(spec: dict[str, Any]) -> dict[str, Any]:
    rng = random.Random(spec["seed"])
    month = "2026-01"
    accounts = sorted(rng.sample(range(1, 10**12), spec["accounts"]))
    credits = [
        AccountCredit(
            f"{account:012d}",
            month,
            -Decimal(int(10 ** rng.uniform(2, 8))).scaleb(-2),
            "AWS credit",
            "AWSCredits",
            (line,),
            1,
        )
        for line, account in enumerate(accounts, start=1)
    ]
    month_credits = MonthCredits(month, credits)
    file = FileRef(bucket=BUCKET, key=f"incoming/credits-{month}.csv", sha256="0" * 64)
    started = time.perf_counter()
    batch = MonthBatch.from_month_credits(file, month_credits)
    batch_seconds = time.perf_counter() - started
    started = time.perf_counter()
    bodies = drop_bodies(batch)
    seconds = time.perf_counter() - started
    sent = [json.loads(body.body) for body in bodies]
    total = sum((Decimal(row["cost/cost"]) for drop in sent for row in drop["data"]), Decimal(0))
    del sent
    traced = Traced()
    if spec["trace"]:
        with trace_memory() as traced:
            drop_bodies(batch)
    return {
        "seconds": seconds,
        "batch_seconds": batch_seconds,
        "peak_bytes": traced.peak,
        "chunks": len(bodies),
        "sizes": [len(body.body) for body in bodies],
        "rows": [body.rows for body in bodies],
        "operations": [body.operation for body in bodies],
        "total_sent": str(total),
        "total": str(month_credits.total),
    }


CHILDREN = {"parse": child_parse, "download": child_download, "drop": child_drop}


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    extra = [str(REPO / "shared"), str(SCRIPTS)]
    env["PYTHONPATH"] = os.pathsep.join([*extra, *filter(None, [env.get("PYTHONPATH")])])
    return env


class BenchError(Exception):
    pass


def run_child(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--spec", json.dumps(spec)]
    done = subprocess.run(
        command, capture_output=True, text=True, env=child_env(), cwd=REPO, timeout=CHILD_TIMEOUT, check=False
    )
    marked = [line for line in done.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if done.returncode != 0 or not marked:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise BenchError(f"{kind} child exited {done.returncode}: {tail}")
    result: dict[str, Any] = json.loads(marked[-1][len(RESULT_MARK) :])
    return result


# --- measurements ----------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[{time.perf_counter() - STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


def human(count: int) -> str:
    for unit, scale in (("M", 1_000_000), ("k", 1_000)):
        if count >= scale:
            value = count / scale
            return f"{value:g}{unit}" if value == int(value) else f"{value:.1f}{unit}"
    return str(count)


def failed(name: str, size: str, target: str, error: Exception) -> Result:
    return Result(name, size, None, None, "", None, target, "FAIL", f"error: {error}")


def parse_cases(tmp: Path, sizes: Sizes, workers: int) -> list[ParseCase]:
    """Write every parse input (in `workers` processes: nothing is timed meanwhile) and say what it must give."""
    plans: list[tuple[ParseCase, Callable[[], Expected]]] = []
    placeholder = Expected("", 0, 0, 0, 0, Decimal(0))
    for index, rows in enumerate(sizes.headerless_rows):
        path = tmp / f"headerless-{rows}" / "credits-2026-01.csv"  # the month comes from the name
        path.parent.mkdir()
        case = ParseCase("headerless", f"{human(rows)} rows", path, "incoming/credits-2026-01.csv", rows, placeholder)
        plans.append((case, partial(write_headerless, path, rows, SEED + index)))
    path = tmp / "cur-legacy.csv.gz"
    case = ParseCase(
        "cur-legacy-csv",
        f"{human(sizes.cur_rows)} rows",
        path,
        "incoming/cur/20240901-20241201/cur-00001.csv.gz",
        sizes.cur_rows,
        placeholder,
        max_seconds=CUR_SECONDS_TARGET,
        max_peak_mb=CUR_PEAK_MB_TARGET,
    )
    plans.append((case, partial(write_cur_legacy, path, sizes.cur_rows, sizes.cur_accounts, SEED + 10)))
    path = tmp / "cur2.parquet"
    key = "incoming/cur2/data/cur2-00001.snappy.parquet"
    case = ParseCase("cur2-parquet", f"{human(sizes.parquet_rows)} rows", path, key, sizes.parquet_rows, placeholder)
    plans.append(
        (
            replace(case, preload_pyarrow=True),
            partial(write_cur2_parquet, path, sizes.parquet_rows, sizes.cur_accounts, SEED + 20),
        )
    )

    log(f"writing {len(plans)} inputs ({workers} at a time): {', '.join(f'{c.name} {c.size}' for c, _ in plans)}")
    slowest_first = sorted(
        range(len(plans)), key=lambda i: -plans[i][0].rows * (1 if plans[i][0].name == "headerless" else 5)
    )
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {index: pool.submit(plans[index][1]) for index in slowest_first}
        return [replace(case, expected=futures[index].result()) for index, (case, _) in enumerate(plans)]


def parse_spec(case: ParseCase, mode: str) -> dict[str, Any]:
    return {"path": str(case.path), "key": case.key, "mode": mode, "preload_pyarrow": case.preload_pyarrow}


def parse_result(case: ParseCase, timed: dict[str, Any] | Exception, traced: dict[str, Any] | Exception) -> Result:
    targets = []
    if case.max_seconds is not None:
        targets.append(f"< {case.max_seconds:g} s")
    if case.max_peak_mb is not None:
        targets.append(f"peak < {case.max_peak_mb:g} MB")
    target = ", ".join(targets) or "correct result"
    if isinstance(timed, Exception):
        return failed(case.name, case.size, target, timed)
    if isinstance(traced, Exception):
        return failed(case.name, case.size, target, traced)
    seconds = float(timed["seconds"])
    peak_mb = traced["peak_bytes"] / MB
    problems = case.expected.mismatches(timed)
    if traced is not timed:
        problems += [f"traced run: {problem}" for problem in case.expected.mismatches(traced)]
    if case.max_seconds is not None and seconds >= case.max_seconds:
        problems.append(f"{seconds:.1f} s, target < {case.max_seconds:g} s")
    if case.max_peak_mb is not None and peak_mb >= case.max_peak_mb:
        problems.append(f"peak {peak_mb:.1f} MB, target < {case.max_peak_mb:g} MB")
    notes = [
        f"{timed['format_id']}: {timed['credit_rows']:,} credit rows, {timed['ignored_rows']:,} ignored, "
        f"{timed['accounts']:,} account credits in {timed['months']} month(s), total {timed['total']}",
        f"{traced['retained_bytes'] / MB:.1f} MB of the peak kept in the result",
        f"RSS +{timed['rss_growth_bytes'] / MB:.0f} MB (untraced run)",
    ]
    if timed["arrow_peak_bytes"] is not None:
        notes.append(
            f"pyarrow pool peak {timed['arrow_peak_bytes'] / MB:.1f} MB (not in tracemalloc; pyarrow preloaded)"
        )
    return Result(
        case.name,
        case.size,
        seconds,
        case.rows / seconds if seconds else None,
        "rows/s",
        peak_mb,
        target,
        "FAIL" if problems else "PASS",
        "; ".join(problems + notes),
        {"rows": case.rows, "timed": timed, "traced": traced},
    )


def scaling_result(results: list[Result]) -> Result:
    """Memory may grow with the accounts (the per-account aggregate), not otherwise with the rows."""
    name, target = "headerless memory scaling", f"B/account <= {SCALING_TARGET:g}x"
    measured = [r for r in results if r.name == "headerless" and r.status == "PASS" and r.peak_mb is not None]
    if len(measured) < 2:
        return Result(name, "", None, None, "", None, target, "FAIL", "needs two headerless measurements")
    middle, largest = measured[-2], measured[-1]
    per_account = [r.peak_mb * MB / r.data["rows"] for r in (middle, largest) if r.peak_mb is not None]
    ratio = per_account[1] / per_account[0]
    return Result(
        name,
        f"{middle.size.split()[0]} -> {largest.size.split()[0]}",
        None,
        None,
        "",
        None,
        target,
        "PASS" if ratio <= SCALING_TARGET else "FAIL",
        f"peak {per_account[0]:,.0f} B/account at {middle.size}, {per_account[1]:,.0f} at {largest.size} "
        f"({ratio:.2f}x): the aggregate grows with the accounts, nothing else with the file",
    )


def measure_download(tmp: Path, size_mb: int) -> Result:
    name, size, target = "s3-download", f"{size_mb} MB", f"peak < {DOWNLOAD_PEAK_MB_TARGET:g} MB"
    try:
        import boto3  # noqa: PLC0415

        from local_stack.moto_stack import moto_server  # noqa: PLC0415

        blob = tmp / "download.bin"
        log(f"writing a {size_mb} MB object")
        sha256 = write_blob(blob, size_mb, SEED + 30)
        key = "incoming/credits-2026-01.csv"
        with moto_server():
            client = boto3.client("s3")
            client.create_bucket(Bucket=BUCKET)
            log("uploading it to moto's server")
            client.upload_file(str(blob), BUCKET, key)
            blob.unlink()
            log("measuring ObjectStore.download")
            out = run_child("download", {"bucket": BUCKET, "key": key})
    except Exception as error:
        return failed(name, size, target, error)
    seconds = float(out["seconds"])
    peak_mb = out["peak_bytes"] / MB
    problems = []
    if out["sha256"] != sha256 or out["size"] != size_mb * MB:
        problems.append(f"downloaded {out['size']} bytes with SHA-256 {out['sha256'][:12]}, not the object's")
    if peak_mb >= DOWNLOAD_PEAK_MB_TARGET:
        problems.append(f"peak {peak_mb:.1f} MB, target < {DOWNLOAD_PEAK_MB_TARGET:g} MB")
    notes = [] if problems else ["SHA-256 and size match"]
    notes.append(f"spooled to disk: {'yes' if out['spilled_to_disk'] else 'no'}")
    return Result(
        name,
        size,
        seconds,
        size_mb / seconds if seconds else None,
        "MB/s",
        peak_mb,
        target,
        "FAIL" if problems else "PASS",
        "; ".join(problems + notes),
        out,
    )


def measure_drop(accounts: int, trace: bool) -> Result:
    name, size, target = "drop-bodies", f"{human(accounts)} accounts", f"body <= {MAX_BODY_BYTES:,} B"
    try:
        out = run_child("drop", {"accounts": accounts, "seed": SEED + 40, "trace": trace})
    except Exception as error:
        return failed(name, size, target, error)
    seconds = float(out["seconds"])
    largest = max(out["sizes"])
    operations: list[str] = out["operations"]
    problems = []
    if largest > MAX_BODY_BYTES:
        problems.append(f"a body of {largest:,} B")
    if sum(out["rows"]) != accounts:
        problems.append(f"{sum(out['rows'])} rows sent for {accounts} accounts")
    if operations[0] != "replace_drop" or any(op != "sum" for op in operations[1:]):
        problems.append(f"operations {operations}")
    if Decimal(out["total_sent"]) != Decimal(out["total"]):
        problems.append(f"bodies carry {out['total_sent']}, the month is {out['total']}")
    notes = [
        f"{out['chunks']} chunk(s) ({' + '.join(operations)}), sizes {', '.join(f'{s:,}' for s in out['sizes'])} B",
        f"the bodies' cost/cost sum to the month total {out['total']}" if not problems else "",
        f"MonthBatch.from_month_credits {out['batch_seconds']:.2f} s",
    ]
    rate = accounts / seconds if seconds else None
    peak_mb = out["peak_bytes"] / MB if trace else None
    status = "FAIL" if problems else "PASS"
    details = "; ".join(problems + [note for note in notes if note])
    return Result(name, size, seconds, rate, "rows/s", peak_mb, target, status, details, out)


_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)\s*$")


def import_times(module: str) -> tuple[float, dict[str, tuple[int, int]]]:
    """Wall seconds of `python -X importtime -c "import <module>"`, and each import's (self, cumulative) us."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=REPO,
        timeout=120,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchError(f"import {module} failed: {(done.stderr.strip().splitlines() or [''])[-1]}")
    entries: dict[str, tuple[int, int]] = {}
    for line in done.stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            entries[match.group(4)] = (int(match.group(1)), int(match.group(2)))
    if module not in entries:
        raise BenchError(f"-X importtime did not list {module}")
    return wall, entries


def measure_import(module: str, runs: int) -> Result:
    short = module.rsplit(".", 1)[-1]
    name, size = f"import {short}", module
    try:
        best: tuple[float, dict[str, tuple[int, int]]] | None = None
        for _ in range(runs):
            wall, entries = import_times(module)
            if best is None or entries[module][1] < best[1][module][1]:
                best = (wall, entries)
        assert best is not None
    except Exception as error:
        return failed(name, size, "report", error)
    wall, entries = best
    cumulative_ms = entries[module][1] / 1000
    all_ms = sum(own for own, _ in entries.values()) / 1000
    packages = sorted(
        (
            (item, times[1])
            for item, times in entries.items()
            if "." not in item and item not in sys.stdlib_module_names and not item.startswith("_") and item != module
        ),
        key=lambda pair: -pair[1],
    )
    heaviest = ", ".join(f"{item} {us / 1000:.0f} ms" for item, us in packages[:4] if item != "credits_pipeline")
    pyarrow = sorted(item for item in entries if item.partition(".")[0] == "pyarrow")
    notes = [
        f"{cumulative_ms:.0f} ms cumulative import (best of {runs}), all imports {all_ms:.0f} ms",
        f"process wall {wall:.2f} s",
        f"heaviest packages: {heaviest}",
        f"pyarrow imported: {'YES' if pyarrow else 'no'}",
    ]
    return Result(
        name,
        size,
        cumulative_ms / 1000,
        None,
        "",
        None,
        "report",
        "-",
        "; ".join(notes),
        {"cumulative_ms": cumulative_ms, "wall_seconds": wall, "pyarrow_modules": pyarrow},
    )


def measure_pyarrow_lazy(imports: list[Result], parses: list[Result]) -> Result:
    """pyarrow is imported only for a Parquet file: not by the format layer, the handlers, or a CSV parse."""
    name, target = "pyarrow-lazy", "pyarrow not imported"
    modules = ("credits_pipeline.formats", "credits_pipeline.formats.registry")
    code = (
        f"import sys, {', '.join(modules)}; "
        "print(','.join(sorted(m for m in sys.modules if m.partition('.')[0] == 'pyarrow')))"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=child_env(),
            cwd=REPO,
            timeout=120,
            check=True,
        )
    except Exception as error:
        return failed(name, "", target, error)
    loaded = [item for item in done.stdout.strip().split(",") if item]
    problems = []
    if loaded:
        problems.append(f"import {' + '.join(modules)} loads {', '.join(loaded[:3])}")
    for result in imports:
        if result.data.get("pyarrow_modules"):
            problems.append(f"{result.size} loads pyarrow")
    csv_parses = [r for r in parses if r.name != "cur2-parquet" and "timed" in r.data]
    for result in csv_parses:
        if result.data["timed"]["pyarrow_loaded"]:
            problems.append(f"parsing {result.name} {result.size} loaded pyarrow")
    notes = [f"checked: import {', '.join(modules)}; the splitter and pusher imports; {len(csv_parses)} CSV parse(s)"]
    return Result(
        name, "formats", None, None, "", None, target, "FAIL" if problems else "PASS", "; ".join(problems + notes)
    )


def run_all(tmp: Path, sizes: Sizes, quick: bool) -> list[Result]:
    """Full: timed runs one at a time, then the traced runs two at a time. Quick: everything two at a time."""
    workers = max(1, min(2, os.cpu_count() or 1))
    log("import cost")
    imports = [
        measure_import(f"credits_pipeline.{module}", sizes.import_runs)
        for module in ("wiring.splitter", "wiring.pusher")
    ]
    results: list[Result] = []
    try:
        cases = parse_cases(tmp, sizes, workers)
    except Exception as error:
        results.append(failed("generate inputs", "", "", error))
        cases = []
    order = sorted(range(len(cases)), key=lambda i: -cases[i].rows)  # the longest first

    timed: dict[int, dict[str, Any] | Exception] = {}
    traced: dict[int, dict[str, Any] | Exception] = {}
    if quick:
        log(f"parses, drop bodies and download, {workers} at a time")
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {index: pool.submit(run_child, "parse", parse_spec(cases[index], "both")) for index in order}
            drop_future = pool.submit(measure_drop, sizes.drop_accounts, False)
            download_future = pool.submit(measure_download, tmp, sizes.download_mb)
            for index, future in futures.items():
                timed[index] = traced[index] = _outcome(future)
            drop, download = drop_future.result(), download_future.result()
    else:
        for index, case in enumerate(cases):
            log(f"timing {case.name} {case.size}")
            timed[index] = _outcome(partial(run_child, "parse", parse_spec(case, "time")))
        log(f"drop bodies for {human(sizes.drop_accounts)} accounts")
        drop = measure_drop(sizes.drop_accounts, True)
        download = measure_download(tmp, sizes.download_mb)
        log(f"peak memory of the parses: tracemalloc, {workers} at a time (traced runs are slow)")
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {index: pool.submit(run_child, "parse", parse_spec(cases[index], "trace")) for index in order}
            for index, future in futures.items():
                traced[index] = _outcome(future)
                log(f"traced {cases[index].name} {cases[index].size}")

    parses = [parse_result(case, timed[index], traced[index]) for index, case in enumerate(cases)]
    results += parses
    if any(case.name == "headerless" for case in cases):
        results.append(scaling_result(parses))
    results += [download, drop, *imports, measure_pyarrow_lazy(imports, parses)]
    return results


def _outcome(job: "Future[dict[str, Any]] | Callable[[], dict[str, Any]]") -> dict[str, Any] | Exception:
    try:
        return job.result() if isinstance(job, Future) else job()
    except Exception as error:
        return error


# --- output ------------------------------------------------------------------------------------------


def print_table(results: list[Result], quick: bool) -> None:
    headers = ("measurement", "size", "seconds", "rate", "peak MB", "target", "result")
    rows = [
        (
            r.name,
            r.size,
            f"{r.seconds:.3f}" if r.seconds is not None else "",
            f"{r.rate:,.0f} {r.rate_unit}" if r.rate is not None else "",
            f"{r.peak_mb:.1f}" if r.peak_mb is not None else "",
            r.target,
            r.status,
        )
        for r in results
    ]
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    right = {2, 3, 4}

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            cell.rjust(width) if index in right else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    mode = "quick sizes" if quick else "full sizes"
    print(
        f"credits pipeline benchmark ({mode}; Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
        "seconds untraced, peak MB = tracemalloc peak of a separate run; MB = 10**6 bytes)"
    )
    print(line(headers))
    print(line(tuple("-" * width for width in widths)))
    for row in rows:
        print(line(row))
    print()
    for r in results:
        if r.details:
            print(f"- {r.name} {r.size}: {r.details}")
    failures = [r for r in results if r.status == "FAIL"]
    print()
    print(f"{len(failures)} target(s) missed" if failures else "all targets met")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run in seconds")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--spec", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        result = CHILDREN[args.child](json.loads(args.spec))
        print(RESULT_MARK + json.dumps(result), flush=True)
        return 0

    sizes = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory(prefix="credits-bench-") as tmp:
        results = run_all(Path(tmp), sizes, args.quick)
    print_table(results, args.quick)
    if args.json:
        report = {
            "quick": args.quick,
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
            "sizes": asdict(sizes),
            "results": [asdict(result) for result in results],
        }
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return 1 if any(result.status == "FAIL" for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
