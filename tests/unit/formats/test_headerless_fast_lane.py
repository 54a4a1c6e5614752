"""The headerless fast lane gives exactly what the per-row reader gives: the same CreditFile (credits, skipped
rows with their lines and reasons, counts, totals checks, padded ids, notes), the same rejection, and the
same stored bodies byte for byte, on every headerless fixture and on generated files with dirty rows.

The per-row reader (`HeaderlessFormat.rows_one_by_one`) is the reference: it is what the monthly file was
read with before the fast lane, and what a file the fast lane does not take is still read with.
"""

import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credits_pipeline.domain.cbf import drop_bodies, prepare_bodies
from credits_pipeline.domain.credits import CreditFile
from credits_pipeline.domain.messages import FileRef, MonthBatch
from credits_pipeline.domain.months import NoMonth, month_from_key
from credits_pipeline.formats import FileRejected, ParseConfig, detect_format, read_credit_file
from credits_pipeline.formats.base import CreditBlock
from credits_pipeline.formats.headerless import HeaderlessFormat
from credits_pipeline.formats.normalise import normalise
from testdata.headerless import dollars, numbered_accounts, write_monthly_file
from tests.unit.formats.helpers import FIXTURES

KEY = "incoming/credits-2026-01.csv"
FILE = FileRef(bucket="b", key="k", sha256="0" * 64)


@dataclass
class Outcome:
    """What reading a file came to: the credit file, or the rejection's every detail."""

    credit_file: CreditFile | None = None
    rejection: tuple[object, ...] | None = None


def _rejection(error: FileRejected) -> tuple[object, ...]:
    return (error.reason, error.line, error.problems, error.problem_counts, error.problems_total, error.format_id)


def fast_lane(data: bytes, name: str = KEY, config: ParseConfig | None = None) -> Outcome:
    try:
        return Outcome(credit_file=read_credit_file(io.BytesIO(data), name, config or ParseConfig()))
    except FileRejected as error:
        return Outcome(rejection=_rejection(error))


def row_by_row(data: bytes, name: str = KEY, config: ParseConfig | None = None) -> Outcome:
    """What `read_credit_file` makes of the file when the headerless reader reads every row by the per-row rules."""
    config = config or ParseConfig()
    credit_format = detect_format(io.BytesIO(data), name, config)
    assert isinstance(credit_format, HeaderlessFormat)
    try:
        credit_file = normalise(
            credit_format.format_id,
            credit_format.duplicate_policy,
            credit_format.rows_one_by_one(),
            config,
            info=credit_format.info,
        )
    except FileRejected as error:
        error.format_id = credit_format.format_id
        error.reason = f"read as {credit_format.format_id}: {error.reason}"
        return Outcome(rejection=_rejection(error))
    credit_file.notes.extend(credit_format.notes)
    return Outcome(credit_file=credit_file)


def exactly(credit_file: CreditFile) -> list[object]:
    """The credits with each cost's digits and exponent (Decimal equality alone would take 1.0 for 1.00)."""
    return [
        (month, c.account_id, c.service, c.description, str(c.cost), c.lines, c.rows)
        for month, credits in credit_file.months.items()
        for c in credits.credits
    ]


def bodies(credit_file: CreditFile, max_bytes: int, *, objects: bool) -> list[tuple[bytes, str]]:
    """The prepared bodies and their totals, from what the splitter sends (`to_send`) or from the objects."""
    return [
        (prepared.body.body, str(prepared.total))
        for month, credits in credit_file.months.items()
        for prepared in prepare_bodies(month, credits.credits if objects else credits.to_send, max_bytes)
    ]


def assert_same(data: bytes, name: str = KEY, config: ParseConfig | None = None) -> Outcome:
    fast, reference = fast_lane(data, name, config), row_by_row(data, name, config)
    assert fast.rejection == reference.rejection
    if reference.credit_file is None:
        return fast
    assert fast.credit_file is not None
    assert fast.credit_file == reference.credit_file
    assert exactly(fast.credit_file) == exactly(reference.credit_file)
    assert {m: str(c.total) for m, c in fast.credit_file.months.items()} == {
        m: str(c.total) for m, c in reference.credit_file.months.items()
    }
    assert {m: c.accounts for m, c in fast.credit_file.months.items()} == {
        m: c.accounts for m, c in reference.credit_file.months.items()
    }
    for max_bytes in (5_000_000, 700):  # one body, and many small chunks
        sent = bodies(fast.credit_file, max_bytes, objects=False)
        assert sent == bodies(reference.credit_file, max_bytes, objects=True)
    return fast


def took_fast_lane(data: bytes, name: str = KEY, config: ParseConfig | None = None) -> bool:
    credit_format = detect_format(io.BytesIO(data), name, config or ParseConfig())
    return any(isinstance(row, CreditBlock) for row in credit_format.rows())


def _headerless_fixtures() -> list[Path]:
    found = []
    for path in sorted(FIXTURES.rglob("*")):
        if not path.is_file() or path.suffix in (".py", ".md"):
            continue
        name = _name(path)
        try:
            credit_format = detect_format(io.BytesIO(path.read_bytes()), name, ParseConfig())
        except FileRejected:
            continue
        if isinstance(credit_format, HeaderlessFormat):
            found.append(path)
    return found


def _name(path: Path) -> str:
    try:
        month_from_key(path.name)
    except NoMonth:
        return KEY
    return f"incoming/{path.name}"


HEADERLESS_FIXTURES = _headerless_fixtures()


def test_the_headerless_fixtures_are_found():
    assert {path.name for path in HEADERLESS_FIXTURES} >= {"credits-2026-01.csv", "credits-2026-01-with-total.csv"}


@pytest.mark.parametrize("path", HEADERLESS_FIXTURES, ids=lambda path: path.name)
@pytest.mark.parametrize(
    "config",
    [
        ParseConfig(),
        ParseConfig(pad_account_ids=False),
        ParseConfig(known_accounts=frozenset({"073933415963", "111122223333"})),
        ParseConfig(currencies=frozenset({"USD", "EUR"}), max_invalid_share=Decimal(1)),
    ],
    ids=["default", "no-padding", "known-accounts", "lenient"],
)
def test_every_headerless_fixture_reads_as_it_does_row_by_row(path, config):
    assert_same(path.read_bytes(), _name(path), config)


def test_the_monthly_fixture_takes_the_fast_lane_and_keeps_its_duplicate_and_zero_rows():
    data = (FIXTURES / "headerless" / "credits-2026-01.csv").read_bytes()
    assert took_fast_lane(data, "incoming/credits-2026-01.csv")
    fast = assert_same(data, "incoming/credits-2026-01.csv")
    assert fast.credit_file is not None
    assert [(s.line, s.reason) for s in fast.credit_file.skipped] == [
        (2, "zero amount"),
        (4, "zero amount"),
        (7, "duplicate of line 1"),
    ]


def test_a_generated_month_of_thousands_of_accounts_is_held_as_columns_and_sent_byte_for_byte(tmp_path):
    path = tmp_path / "credits-2026-01.csv"
    expected = write_monthly_file(path, 3_000, seed=7)
    data = path.read_bytes()
    assert took_fast_lane(data)
    fast = assert_same(data)
    assert fast.credit_file is not None
    month = fast.credit_file.months["2026-01"]
    assert month.columns is not None and len(month.columns) == 3_000
    assert month.total == expected.months["2026-01"].total
    # the version-1 way (drop_bodies of a MonthBatch) makes the same bytes as the columns' prepared bodies
    assert [body.sha256 for body in drop_bodies(MonthBatch.from_month_credits(FILE, month))] == [
        prepared.body.sha256 for prepared in prepare_bodies("2026-01", month.to_send)
    ]


# --- generated files with dirty rows sprinkled in ------------------------------------------------------------

POOL = numbered_accounts(12, start=73933415960)  # few accounts: duplicates and conflicts happen
clean_amounts = st.builds(
    lambda cents, negative, style: _written(cents, negative, style),  # noqa: PLW0108 - _written is defined below
    st.integers(1, 10**9),
    st.booleans(),
    st.sampled_from(["dollars", "plain", "plain-dollar", "quoted-plain", "decimals"]),
)


def _written(cents: int, negative: bool, style: str) -> str:
    whole, fraction = divmod(cents, 100)
    if style == "dollars":
        return f'"{dollars(cents, negative=negative)}"' if whole >= 1000 else dollars(cents, negative=negative)
    if style == "plain":
        return f"{'-' if negative else ''}{whole}.{fraction:02d}"
    if style == "plain-dollar":
        return f"{'-' if negative else ''}${whole or 1}"  # never $0: a zero amount is a dirty row
    if style == "quoted-plain":
        return f'"{whole}.{fraction:02d}"'
    return f"{whole}.{fraction:02d}{cents % 7}"  # three decimals: not a thousands group after a point


clean_rows = st.builds(lambda account, amount: f"{account},{amount}", st.sampled_from(POOL), clean_amounts)
dirty_rows = st.sampled_from(
    [
        "",  # a blank line
        "   ",
        ",",
        'Total,"$1,000.00"',
        "Total,$0.00",
        "Grand total,",
        "Subtotal,$5.00",
        "73933415960,$5.00",  # a short id: padded (or refused)
        '73933415961,"$1,234.56"',
        "'073933415962,$7.00",
        "073933415963,$0.00",  # zero amounts
        "073933415964,$ -",
        "073933415965,0",
        "073933415966,$1,234.56",  # unquoted thousands: three columns
        "073933415967,$5.00,",  # a trailing empty cell
        "073933415968,€5.00",  # another currency
        "073933415969,5.00 USD",
        "073933415970,abc",
        "1.1E+11,$5.00",
        "0739334159711,$5.00",  # thirteen digits
        "073933415960,+5.00",
        "073933415961,$-5.00",
        "073933415962,0.50",
        "073933415963,007.50",
        "073933415964,1e2",
        "073933415965,(5.00)",
        "only-one-cell",
        '"073933415966","$5.00"',  # quotes around the id: the file is read row by row
        '073933415967,"$5',  # an unclosed quote spanning the lines that follow
    ]
)


@st.composite
def monthly_files(draw: st.DrawFn) -> bytes:
    rows = draw(st.lists(st.one_of(clean_rows, clean_rows, clean_rows, dirty_rows), min_size=1, max_size=40))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(rows) + draw(st.sampled_from(["", newline]))
    if draw(st.booleans()) and len(rows) > 2:
        text = text.replace(newline, "\r", 1)  # a lone CR: the file is read row by row
    bom = "\ufeff" if draw(st.booleans()) else ""
    return (bom + text).encode()


configs = st.builds(
    ParseConfig,
    known_accounts=st.one_of(st.none(), st.frozensets(st.sampled_from(POOL), min_size=1)),
    pad_account_ids=st.booleans(),
    currencies=st.sampled_from([frozenset({"USD"}), frozenset({"USD", "EUR"})]),
    max_invalid_share=st.sampled_from([Decimal("0.10"), Decimal(1)]),
    skipped_detail_limit=st.sampled_from([500, 2]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(monthly_files(), configs)
def test_generated_monthly_files_with_dirty_rows_read_as_they_do_row_by_row(data, config):
    try:
        credit_format = detect_format(io.BytesIO(data), KEY, config)
    except FileRejected:
        return  # not read at all (e.g. the first rows are not data): neither lane is involved
    if not isinstance(credit_format, HeaderlessFormat):
        return  # a first row that is not data: another format
    assert_same(data, KEY, config)


@settings(max_examples=50, deadline=None)
@given(st.lists(clean_rows, min_size=1, max_size=60, unique_by=lambda row: row.split(",")[0]))
def test_clean_files_take_the_fast_lane(rows):
    data = "\n".join(rows).encode()
    assert took_fast_lane(data)
    assert_same(data)


LENIENT = ParseConfig(currencies=frozenset({"USD", "EUR"}), max_invalid_share=Decimal(1))


@pytest.mark.parametrize(
    ("data", "config"),
    [
        (b"073933415963,$5.00\n073933415964,$1.00\n073933415963,5\n", ParseConfig()),  # a duplicate
        (b"073933415963,$5.00\n073933415964,$1.00\n073933415963,$6.00\n", ParseConfig()),  # a conflict
        (b"73933415960,$5.00\n073933415960,$5.00\n073933415964,$1.00\n", ParseConfig()),  # short, then in full
        (b"073933415960,$5.00\n73933415960,$5.00\n073933415964,$1.00\n", ParseConfig()),  # in full, then short
        (b"073933415964,$1.00\n73933415960,abc\n073933415960,$5.00\n", LENIENT),  # padded by an invalid row
        (b'073933415963,$5.00\n073933415964,"$1,000.00"\nTotal,"$1,005.00"\n', ParseConfig()),
        (b'073933415963,$5.00\n073933415964,"$1,000.00"\nTotal,"$1,005.01"\n', ParseConfig()),  # a cent off
        (b"073933415963,$5.00\n073933415964,$1.00\n073933415963,$5.00\nTotal,$11.00\n", ParseConfig()),
        (b"073933415963,$0.00\n073933415964,$1.00\n073933415963,$5.00\nTotal,$6.00\n", ParseConfig()),
        (b"073933415963,$5.00\n073933415964,$1.00\n", ParseConfig(known_accounts=frozenset({"073933415964"}))),
        (b"073933415963,5.00\n073933415965,\xe2\x82\xac2.00\n073933415964,$1.00\n", LENIENT),  # EUR named first
        (b"073933415963,$5.00\n073933415965,\xe2\x82\xac2.00\n073933415964,1.00\n", LENIENT),  # USD named first
        (b"073933415963,1e2\n073933415963,$100\n073933415964,$1.00\n", ParseConfig()),  # equal, written apart
    ],
    ids=[
        "duplicate",
        "conflict",
        "short-then-full",
        "full-then-short",
        "padded-by-an-invalid-row",
        "total",
        "total-a-cent-off",
        "total-counting-a-duplicate",
        "zero-then-amount",
        "unknown-account",
        "eur-first",
        "usd-first",
        "exponent",
    ],
)
def test_clean_lines_that_meet_other_rows_are_decided_as_row_by_row(data, config):
    assert took_fast_lane(data, KEY, config)
    assert_same(data, KEY, config)


TOO_MANY_TOTALS = b"Total,$1.00\n" * 10_001


@pytest.mark.parametrize(
    "data",
    [
        b"073933415963,$5.00\n073933415964,$1.00\n073933415963,$6.00\n" + TOO_MANY_TOTALS,  # the conflict first
        b"073933415963,$5.00\n073933415964,$1.00\n" + TOO_MANY_TOTALS + b"073933415963,$6.00\n",  # the totals first
    ],
    ids=["conflict-first", "totals-first"],
)
def test_a_file_stating_too_many_totals_is_rejected_where_the_row_path_stops(data):
    assert fast_lane(data).rejection is not None
    assert_same(data)
