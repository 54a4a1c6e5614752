"""Streaming: memory does not grow with the number of rows, and a large CUR reads quickly."""

import gzip
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from credits_pipeline.formats import ParseConfig, read_credit_file
from testdata.allocation import allocation_response, numbered_entries
from testdata.cur import LegacyLineItem, legacy_cur_csv

# The columns the reader needs, and a few it skips: a lean CUR, so the rows dominate the file.
COLUMNS = (
    "identity/LineItemId",
    "bill/BillingPeriodStartDate",
    "lineItem/UsageAccountId",
    "lineItem/LineItemType",
    "lineItem/ProductCode",
    "lineItem/UnblendedCost",
    "lineItem/LineItemDescription",
    "lineItem/CurrencyCode",
    "lineItem/ResourceId",
    "product/ProductName",
)


def cur_rows(count: int) -> bytes:
    """Every tenth row a $0.01 credit, the rest usage, over 50 accounts in September 2024."""
    items = (
        LegacyLineItem(
            account=f"{100000000000 + n % 50}",
            row_type="Credit" if n % 10 == 0 else "Usage",
            cost="-0.0100000000" if n % 10 == 0 else "0.0116000000",
            description="AWS Activate Credits" if n % 10 == 0 else "BoxUsage",
            product_name="Amazon EC2",
            line_item_id=f"id{n}",
            resource_id=f"i-{n:017x}",
        )
        for n in range(count)
    )
    return legacy_cur_csv(items, COLUMNS).encode()


def allocation_records(count: int) -> bytes:
    return allocation_response(numbered_entries(count), indent=None).encode()


def peak_while_reading(data: bytes, tmp_path: Path) -> int:
    path = tmp_path / f"file-{len(data)}"
    path.write_bytes(data)
    with path.open("rb") as stream:
        tracemalloc.start()
        try:
            read_credit_file(stream, "incoming/x.csv", ParseConfig())
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


@pytest.mark.parametrize(
    "make",
    [cur_rows, lambda n: gzip.compress(cur_rows(n)), allocation_records],
    ids=["cur-csv", "cur-csv-gzip", "allocation-json"],
)
def test_memory_does_not_grow_with_the_number_of_rows(make: Callable[[int], bytes], tmp_path):
    small = peak_while_reading(make(10_000), tmp_path)
    large = peak_while_reading(make(60_000), tmp_path)
    assert large < small * 1.5 + 2_000_000, (small, large)


def test_a_large_cur_reads_in_well_under_its_share_of_a_minute():
    data = cur_rows(200_000)
    with tempfile.SpooledTemporaryFile(max_size=1 << 20) as stream:  # what the splitter hands over
        stream.write(data)
        stream.seek(0)
        started = time.perf_counter()
        credit_file = read_credit_file(stream, "incoming/cur.csv", ParseConfig())
        elapsed = time.perf_counter() - started
    assert credit_file.credit_rows == 20_000
    assert credit_file.ignored_rows == 180_000
    assert credit_file.total == Decimal("-200.0000000000")
    # 1,000,000 rows must take well under a minute: 200,000 get 8 seconds even on a slow runner.
    assert elapsed < 8, elapsed
