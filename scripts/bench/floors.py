"""The floors: the least any reader must do with the same file, measured in the same run.

- CSV (gzip or not): the bare standard-library loop, `for row in csv.reader(text)`, every row.
- Parquet: pyarrow's own read of the needed columns, filter to credit rows and group-by sum.

A target is a ratio to its floor, so a slower machine (or a busy one) moves both alike. The file is read
once before the clock starts: a floor reads from the page cache (the path reads its copy from moto's
memory), or it would swing with what the run wrote last (a Parquet floor measured 0.10 s and 0.33 s).
"""

import csv
import gzip
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from bench.clock import timed

CUR2_CREDIT_KEYS = (
    "bill_billing_period_start_date",
    "line_item_usage_account_id",
    "line_item_product_code",
    "line_item_line_item_description",
)


def csv_floor(path: Path) -> dict[str, Any]:
    _cached(path)

    def read() -> int:
        rows = 0
        with _text(path) as text:
            for _ in csv.reader(text):
                rows += 1
        return rows

    rows, seconds = timed(read)
    return {"seconds": asdict(seconds), "rows": rows}


def parquet_floor(path: Path) -> dict[str, Any]:
    import pyarrow.compute as pc  # noqa: PLC0415 - imported before the clock starts: a loaded library is the floor
    import pyarrow.parquet as pq  # noqa: PLC0415

    _cached(path)

    def group() -> tuple[int, int]:
        columns = [*CUR2_CREDIT_KEYS, "line_item_line_item_type", "line_item_unblended_cost"]
        table = pq.read_table(path, columns=columns)
        credits = table.filter(pc.field("line_item_line_item_type") == "Credit")
        sums = credits.group_by(list(CUR2_CREDIT_KEYS)).aggregate([("line_item_unblended_cost", "sum")])
        return table.num_rows, sums.num_rows

    (rows, groups), seconds = timed(group)
    return {"seconds": asdict(seconds), "rows": rows, "groups": groups}


def _cached(path: Path) -> None:
    """Read the whole file once, so that the timed read finds it in the page cache."""
    with path.open("rb") as file:
        while file.read(1 << 20):
            pass


def _text(path: Path) -> TextIO:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")
