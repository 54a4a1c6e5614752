"""Properties: any valid file pushes exactly its credit total; any bytes are read or rejected, never a crash.

The pushed total is measured where the pusher measures it: the `cost/cost` of every CBF row of every
drop body (`MonthBatch.from_month_credits` -> `cbf.drop_bodies`), summed as Decimal.
"""

import gzip
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credits_pipeline.domain.cbf import drop_bodies
from credits_pipeline.domain.messages import FileRef, MonthBatch
from credits_pipeline.formats import FileRejected, ParseConfig, read_credit_file
from testdata.allocation import allocation_entry
from testdata.cur import LegacyLineItem, legacy_cur_csv
from testdata.encode import csv_text
from tests.unit.formats.helpers import FIXTURES

MONTHS = ["2024-11", "2024-12", "2025-01"]
FILE = FileRef(bucket="b", key="k", sha256="0" * 64)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass
class Generated:
    data: bytes
    name: str
    format_family: str
    # month -> the credit total the file states (negative: credits), by hand from the generated values
    expected: dict[str, Decimal] = field(default_factory=dict)


def pushed_totals(data: bytes, name: str) -> dict[str, Decimal]:
    credit_file = read_credit_file(io.BytesIO(data), name, ParseConfig())
    totals: dict[str, Decimal] = {}
    for month, credits in credit_file.months.items():
        for body in drop_bodies(MonthBatch.from_month_credits(FILE, credits)):
            drop = json.loads(body.body)
            totals[month] = totals.get(month, Decimal(0)) + sum(
                (Decimal(row["cost/cost"]) for row in drop["data"]), Decimal(0)
            )
    return totals


def add(expected: dict[str, Decimal], month: str, cost: Decimal) -> None:
    expected[month] = expected.get(month, Decimal(0)) + cost


accounts = st.integers(1, 999_999_999_999).map(lambda n: f"{n:012d}")
cents = st.integers(1, 10**10)
# amounts with up to ten decimals, as AWS writes them
aws_amounts = st.builds(
    lambda units, places: Decimal(units).scaleb(-places), st.integers(1, 10**13), st.integers(0, 10)
)


def group(digits: str, separator: str) -> str:
    parts: list[str] = []
    while len(digits) > 3:
        parts.insert(0, digits[-3:])
        digits = digits[:-3]
    return separator.join([digits, *parts])


@st.composite
def written_magnitudes(draw: st.DrawFn, amount_cents: int, decimal_comma: bool) -> str:
    """A hand-written amount: `$1,234.56`, `1.234,56`, `(12.00)`, `-$5.00`, `USD 3.50`."""
    whole, fraction = divmod(amount_cents, 100)
    point, thousands = (",", ".") if decimal_comma else (".", ",")
    digits = group(str(whole), thousands) if draw(st.booleans()) else str(whole)
    text = f"{digits}{point}{fraction:02d}"
    style = draw(st.sampled_from(["plain", "dollar", "negative", "parens", "code"]))
    return {
        "plain": text,
        "dollar": f"${text}",
        "negative": f"-${text}",
        "parens": f"({text})",
        "code": f"USD {text}",
    }[style]


def compress(draw: st.DrawFn, data: bytes, inner_name: str) -> bytes:
    wrapper = draw(st.sampled_from(["none", "gzip", "zip", "zip+gzip"]))
    if wrapper == "gzip":
        return gzip.compress(data)
    if wrapper in ("zip", "zip+gzip"):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            if wrapper == "zip":
                archive.writestr(inner_name, data)
            else:
                archive.writestr(inner_name + ".gz", gzip.compress(data))
        return buffer.getvalue()
    return data


@st.composite
def headerless_files(draw: st.DrawFn) -> Generated:
    month = draw(st.sampled_from(MONTHS))
    amounts = draw(st.dictionaries(accounts, cents, min_size=1, max_size=20))
    delimiter = draw(st.sampled_from([",", ";"]))
    decimal_comma = delimiter == ";" and draw(st.booleans())
    rows = [[account, draw(written_magnitudes(value, decimal_comma))] for account, value in amounts.items()]
    text = csv_text(rows, delimiter, draw(st.sampled_from(["\n", "\r\n"])))
    bom = b"\xef\xbb\xbf" if draw(st.booleans()) else b""
    expected = {month: -Decimal(sum(amounts.values())).scaleb(-2)}
    name = f"incoming/credits-{month}.csv"
    return Generated(compress(draw, bom + text.encode(), "credits.csv"), name, "headerless", expected)


@st.composite
def sheet_files(draw: st.DrawFn) -> Generated:
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    decimal_comma = delimiter != "," and draw(st.booleans())
    header = [
        draw(st.sampled_from(["Account ID", "AWS Account", "Linked account", "Usage Account ID"])),
        draw(st.sampled_from(["Month", "Billing Period", "Period", "Invoice Month"])),
        draw(st.sampled_from(["Amount", "Credit Amount", "Credits Applied", "Amount (USD)"])),
        draw(st.sampled_from(["Credit Name", "Description", "Program"])),
    ]
    month_styles = {"2024-11": "Nov 2024", "2024-12": "12/2024", "2025-01": "2025-01-01 00:00:00"}
    rows = [header]
    expected: dict[str, Decimal] = {}
    for _ in range(draw(st.integers(1, 25))):
        month = draw(st.sampled_from(MONTHS))
        value = draw(cents)
        written_month = month if draw(st.booleans()) else month_styles[month]
        rows.append(
            [
                draw(accounts),
                written_month,
                draw(written_magnitudes(value, decimal_comma)),
                draw(st.sampled_from(["Activate", "MAP"])),
            ]
        )
        add(expected, month, -Decimal(value).scaleb(-2))
    text = csv_text(rows, delimiter, draw(st.sampled_from(["\n", "\r\n"])))
    return Generated(compress(draw, text.encode(), "sheet.csv"), "incoming/sheet.csv", "sheet", expected)


CUR_COLUMNS = (
    "identity/LineItemId",
    "bill/BillingPeriodStartDate",
    "lineItem/UsageAccountId",
    "lineItem/LineItemType",
    "lineItem/ProductCode",
    "lineItem/UnblendedCost",
    "lineItem/LineItemDescription",
    "lineItem/CurrencyCode",
)


@st.composite
def cur_files(draw: st.DrawFn) -> Generated:
    items: list[LegacyLineItem] = []
    expected: dict[str, Decimal] = {}
    for number in range(draw(st.integers(1, 30))):
        month = draw(st.sampled_from(MONTHS))
        kind = draw(st.sampled_from(["Credit", "Credit", "Usage", "Tax", "Refund", "EdpDiscount"]))
        amount = draw(aws_amounts)
        reversal = kind == "Credit" and draw(st.integers(0, 5)) == 0
        cost = amount if kind in ("Usage", "Tax") or reversal else -amount
        description = "MAP credit X_MPE" if kind == "Refund" and draw(st.booleans()) else f"{kind} line"
        if kind == "Credit" or description.endswith("_MPE"):
            add(expected, month, cost)
        period = f"{month}-01T00:00:00" + draw(st.sampled_from(["Z", ".000Z"]))
        code = draw(st.sampled_from(["AmazonEC2", "AmazonS3"]))
        items.append(
            LegacyLineItem(
                account=draw(accounts),
                row_type=kind,
                cost=format(cost, "f"),
                description=description,
                product_code=code,
                line_item_id=f"id{number}",
                period_start=period,
            )
        )
    data = legacy_cur_csv(items, CUR_COLUMNS).encode()
    return Generated(compress(draw, data, "cur-00001.csv"), "incoming/cur.csv", "cur", expected)


@st.composite
def focus_files(draw: st.DrawFn) -> Generated:
    header = ["SubAccountId", "BillingPeriodStart", "BilledCost", "EffectiveCost", "ChargeCategory", "ChargeClass"]
    header += ["ServiceName", "ChargeDescription", "ProviderName", "BillingCurrency"]
    rows = [header]
    expected: dict[str, Decimal] = {}
    for _ in range(draw(st.integers(1, 25))):
        month = draw(st.sampled_from(MONTHS))
        category = draw(st.sampled_from(["Credit", "Credit", "Usage", "Adjustment"]))
        provider = draw(st.sampled_from(["AWS", "AWS", "Microsoft"]))
        amount = draw(aws_amounts)
        correction = category == "Credit" and draw(st.integers(0, 4)) == 0
        cost = amount if correction or category == "Usage" else -amount
        if category == "Credit" and provider == "AWS":
            add(expected, month, cost)
        account = draw(accounts) if provider == "AWS" else "sub-123"
        rows.append(
            [
                account,
                f"{month}-01 00:00:00",
                format(cost, "f"),
                "0",
                category,
                "Correction" if correction else "NULL",
                "Amazon EC2",
                "credit",
                provider,
                "USD",
            ]
        )
    data = csv_text(rows, ",", "\n").encode()
    return Generated(compress(draw, data, "focus.csv"), "incoming/focus.csv", "focus", expected)


@st.composite
def allocation_files(draw: st.DrawFn) -> Generated:
    entries: list[dict[str, object]] = []
    expected: dict[str, Decimal] = {}
    for number in range(draw(st.integers(1, 20))):
        month = draw(st.sampled_from(MONTHS))
        amount = -draw(aws_amounts)
        add(expected, month, amount)
        # JSON numbers must be read exactly too: some amounts are written as bare numbers
        written = ("__NUMBER__" if draw(st.booleans()) else "") + format(amount, "f")
        entries.append(
            allocation_entry(
                draw(accounts),
                month,
                written,
                service=draw(st.sampled_from(["EC2", "S3"])),
                credit_id=str(number),
                description="credit",
                estimated=draw(st.booleans()),
            )
        )
    shape = draw(st.sampled_from(["response", "list", "lines", "pages"]))
    if shape == "response":
        text = json.dumps(
            {"creditAllocationHistoryList": entries, "nextToken": None}, indent=draw(st.sampled_from([None, 2]))
        )
    elif shape == "list":
        text = json.dumps(entries)
    elif shape == "lines":
        text = "\n".join(json.dumps(entry) for entry in entries)
    else:
        half = len(entries) // 2
        text = json.dumps(
            [{"creditAllocationHistoryList": entries[:half]}, {"creditAllocationHistoryList": entries[half:]}]
        )
    data = re.sub(r'"__NUMBER__([^"]*)"', r"\1", text).encode()
    return Generated(compress(draw, data, "credits.json"), "incoming/credits.json", "allocation", expected)


@st.composite
def wide_files(draw: st.DrawFn) -> Generated:
    months = MONTHS[: draw(st.integers(1, 3))]
    with_header = draw(st.booleans())
    # a blank cell is no credit in a wide file; the one-month headerless file has no blanks
    cell = st.one_of(st.none(), cents) if with_header or len(months) > 1 else cents
    amounts = draw(
        st.dictionaries(accounts, st.lists(cell, min_size=len(months), max_size=len(months)), min_size=1, max_size=10)
    )
    expected: dict[str, Decimal] = {}
    rows = []
    for account, values in amounts.items():
        cells = [account]
        for month, value in zip(months, values, strict=True):
            if value is None:
                cells.append("")
            else:
                cells.append(draw(written_magnitudes(value, False)))
                add(expected, month, -Decimal(value).scaleb(-2))
        rows.append(cells)
    if with_header:
        rows.insert(0, ["Account ID", *months])
        name = "incoming/backfill.csv"
    else:
        name = (
            f"incoming/credits-{months[0]}_{months[-1]}.csv" if len(months) > 1 else f"incoming/credits-{months[0]}.csv"
        )
    data = csv_text(rows, ",", "\n").encode()
    return Generated(data, name, "wide", expected)


def check(case: Generated) -> None:
    stated = {month: total for month, total in case.expected.items()}
    try:
        pushed = pushed_totals(case.data, case.name)
    except FileRejected as rejection:
        # Only a file whose credits all net to zero (or are absent) may be rejected.
        assert all(total == 0 for total in stated.values()), f"{case.format_family}: {rejection}"
        return
    assert {m: t for m, t in pushed.items() if t} == {m: t for m, t in stated.items() if t}


@SETTINGS
@given(headerless_files())
def test_headerless_files_push_their_exact_credit_total(case):
    check(case)


@SETTINGS
@given(sheet_files())
def test_hand_made_sheets_push_their_exact_credit_total(case):
    check(case)


@SETTINGS
@given(cur_files())
def test_cur_files_push_their_exact_credit_total(case):
    check(case)


@SETTINGS
@given(focus_files())
def test_focus_files_push_their_exact_credit_total(case):
    check(case)


@SETTINGS
@given(allocation_files())
def test_allocation_histories_push_their_exact_credit_total(case):
    check(case)


@SETTINGS
@given(wide_files())
def test_wide_files_push_their_exact_credit_total(case):
    check(case)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(accounts, st.sampled_from(MONTHS), aws_amounts, st.sampled_from(["Credit", "Usage"])),
        min_size=1,
        max_size=30,
    )
)
def test_cur2_parquet_pushes_its_exact_credit_total(rows):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    expected: dict[str, Decimal] = {}
    for _, month, amount, kind in rows:
        if kind == "Credit":
            add(expected, month, -amount)
    table = pa.table(
        {
            "bill_payer_account_name": ["payer"] * len(rows),
            "line_item_usage_account_name": ["member"] * len(rows),
            "line_item_usage_account_id": [account for account, *_ in rows],
            "bill_billing_period_start_date": [f"{month}-01T00:00:00Z" for _, month, *_ in rows],
            "line_item_line_item_type": [kind for *_, kind in rows],
            "line_item_unblended_cost": pa.array([-amount for _, _, amount, _ in rows], pa.decimal128(38, 10)),
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    check(Generated(buffer.getvalue(), "incoming/cur2.parquet", "cur2-parquet", expected))


# --- never a crash -------------------------------------------------------------------------------


def read_or_reject(data: bytes, name: str = "incoming/credits-2026-01.csv") -> None:
    try:
        credit_file = read_credit_file(io.BytesIO(data), name, ParseConfig())
    except FileRejected as rejection:
        assert str(rejection).strip()
    else:
        assert credit_file.months


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_are_read_or_rejected_never_a_crash(data):
    read_or_reject(data)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2048), st.sampled_from(["gzip", "zip", "parquet-magic", "json"]))
def test_arbitrary_bytes_behind_any_magic_are_rejected_clearly(data, wrapper):
    if wrapper == "gzip":
        data = gzip.compress(data)
    elif wrapper == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("x.csv", data)
        data = buffer.getvalue()
    elif wrapper == "parquet-magic":
        data = b"PAR1" + data + b"PAR1"
    else:
        data = b"[" + data
    read_or_reject(data)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from('{}[]",:0123456789.-aE \n\\'), max_size=400))
def test_arbitrary_json_like_text_is_read_or_rejected(text):
    read_or_reject(text.encode())


FIXTURE_FILES = sorted(path for path in FIXTURES.rglob("*") if path.is_file() and path.suffix not in (".py", ".md"))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FIXTURE_FILES), st.data())
def test_damaged_fixtures_are_read_or_rejected_never_a_crash(path: Path, data):
    original = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        action = data.draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        position = data.draw(st.integers(0, max(len(original) - 1, 0)))
        if action == "flip" and original:
            original[position] ^= data.draw(st.integers(1, 255))
        elif action == "cut":
            del original[position:]
        elif action == "insert":
            original[position:position] = data.draw(st.binary(min_size=1, max_size=16))
        elif original:
            del original[position : position + data.draw(st.integers(1, 64))]
    read_or_reject(bytes(original), name=f"incoming/{path.name}")
