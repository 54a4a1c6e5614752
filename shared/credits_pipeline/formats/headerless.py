"""`account,amount` with no header: the file the monthly process has always used, and its wide form.

The month comes from the object key (`credits-2026-01.csv`). Amounts are credit magnitudes:
`$100.00` and `-$100.00` both mean a credit of 100, sent as cost -100. Identical repeated rows are
skipped as duplicates; the same account with two different amounts rejects the file. A `Total` row
(`Total,"$124,061.79"`) is a check, not an account: the credits read (a duplicate counted once, as it
is sent) must add up to it, to the cent, or the file is rejected.

The wide back-fill form `account,m1,m2,...` carries several months; with no header row its months
come from a range in the key (`credits-2025-01_2025-12.csv`: twelve amount columns). A back-fill
with a header row naming its months (first cell blank or `account`) is read as `sheet-wide/1`.
"""

import re
from collections import Counter
from collections.abc import Iterator

from credits_pipeline.domain.accounts import InvalidAccountId
from credits_pipeline.domain.credits import CreditLine, IgnoredRow, RowOutcome, SkippedRow
from credits_pipeline.domain.money import InvalidAmount
from credits_pipeline.domain.months import NoMonth, month_from_key, month_range_from_key
from credits_pipeline.formats.base import (
    DuplicatePolicy,
    FileRejected,
    FormatInfo,
    FormatReader,
    FormatRow,
    ParseConfig,
)
from credits_pipeline.formats.sheets import MAGNITUDE_NOTE, WideFormat
from credits_pipeline.formats.sources import BadRow, CsvSource, Header
from credits_pipeline.formats.tabular import SIGN_RULES
from credits_pipeline.formats.totals import FILE, TotalsLedger, total_label
from credits_pipeline.formats.values import AccountReader, AmountReader, decide_decimal_comma

FORMAT_ID = "headerless/1"
WIDE_FORMAT_ID = "headerless-wide/1"
_ACCOUNT_LIKE = re.compile(r"^\s*(?:'|=\")?[\d\s\-.eE+]{1,20}\"?\s*$")
_AMOUNT_PROBE = AmountReader()


def _account_like(cell: str) -> bool:
    return bool(_ACCOUNT_LIKE.match(cell)) and any(ch.isdigit() for ch in cell)


def _amount_like(cell: str) -> bool:
    if not cell.strip():
        return True
    try:
        _AMOUNT_PROBE.read(cell)
    except InvalidAmount:
        return False
    return True


def amount_columns(first_row: list[str]) -> int | None:
    """How many amounts a data row carries when the first row is data (no header), else None."""
    if len(first_row) < 2 or not _account_like(first_row[0]):
        return None
    if not all(_amount_like(cell) for cell in first_row[1:]):
        return None
    width = len(first_row)
    while width > 2 and not first_row[width - 1].strip():
        width -= 1  # trailing empty cells (`account,amount,`) are not amount columns
    return width - 1


def headerless_amounts(sample: list[list[str]], name: str) -> int | None:
    """How many amount columns a headerless file has: None when its first row is not data.

    The most common width among the sample's data rows counts (the wider on a tie): a back-fill's
    first row may leave its last month blank, and one stray row must not change the format.
    Trailing empty cells are not columns (`account,amount,`), unless the key names a month range
    exactly that wide (a back-fill whose last month is blank in every row).
    """
    if not sample or amount_columns(sample[0]) is None:
        return None
    widths = Counter(width for width in map(amount_columns, sample) if width is not None)
    width = max(widths, key=lambda width: (widths[width], width))
    raw = max(len(row) - 1 for row in sample if amount_columns(row) is not None)
    if raw > width:
        try:
            named = len(key_month_range(name))
        except FileRejected:
            named = 0
        if named == raw:
            return raw
    return width


class HeaderlessFormat(FormatReader):
    format_id = FORMAT_ID
    duplicate_policy: DuplicatePolicy = "collapse"

    def __init__(self, source: CsvSource, name: str, config: ParseConfig) -> None:
        try:
            self._month = month_from_key(name)
        except NoMonth as error:
            raise FileRejected(str(error)) from None
        self._source = source
        self._description = config.default_description
        self._service = config.default_service
        self._accounts = AccountReader(pad=config.pad_account_ids)
        self._ledger = TotalsLedger(magnitude=True, collapse=True)
        sample = [cells[1] for _, cells in _data_rows(source, 200) if len(cells) > 1]
        self._amounts = AmountReader(decimal_comma=decide_decimal_comma(source.delimiter, sample))
        self.info = FormatInfo(
            format_id=FORMAT_ID,
            title="headerless account,amount (the monthly file)",
            layout=source.layout,
            amount_column=f"column 2 ({MAGNITUDE_NOTE})",
            columns=(("account", "column 1"), ("amount", "column 2")),
            sign_rule=SIGN_RULES["magnitude"],
            month_source=f"the file name ({self._month})",
        )

    def rows(self) -> Iterator[FormatRow]:
        for item in self._source.rows():
            if isinstance(item, tuple):
                outcome = self._row(*item)
                if isinstance(outcome, CreditLine):
                    self._ledger.credit(outcome)
                yield outcome
            elif isinstance(item, BadRow):
                yield SkippedRow(item.line, None, item.reason)
        yield from self._ledger.checks()

    def _row(self, line: int, fields: list[str]) -> RowOutcome:
        account_text = fields[0]
        extra = [cell for cell in fields[2:] if cell.strip()]
        if len(fields) < 2 or extra:
            return SkippedRow(line, account_text.strip() or None, f"expected 2 columns, found {len(fields)}")
        label = total_label(account_text)
        if label is not None:
            return self._total_row(line, label, fields[1])
        try:
            account_id = self._accounts.read(account_text)
        except InvalidAccountId as error:
            return SkippedRow(line, account_text.strip() or None, str(error))
        try:
            amount, currency = self._amounts.read(fields[1])
        except InvalidAmount as error:
            return SkippedRow(line, account_id, str(error))
        return CreditLine(
            line,
            account_id,
            self._month,
            amount.copy_abs().copy_negate(),
            self._description,
            self._service,
            currency,
            padded=account_id in self._accounts.padded,
        )

    def _total_row(self, line: int, label: str, text: str) -> RowOutcome:
        if label == "subtotal":
            return IgnoredRow(line, "subtotal row (not checked: its rows are not stated)")
        if text.strip():
            try:
                amount, _ = self._amounts.read(text)
            except InvalidAmount as error:
                return SkippedRow(line, None, f"total row: {error}")
            self._ledger.state(FILE, line, "the Total row", amount.copy_abs().copy_negate())
        return IgnoredRow(line, "total row")


def _data_rows(source: CsvSource, limit: int) -> list[tuple[int, list[str]]]:
    rows = []
    for item in source.rows():
        if isinstance(item, tuple):
            rows.append(item)
            if len(rows) >= limit:
                break
    return rows


def key_month_range(name: str) -> list[str]:
    """The months a back-fill's key names, or FileRejected saying why it names none."""
    try:
        return month_range_from_key(name)
    except NoMonth as error:
        raise FileRejected(str(error)) from None


def headerless_wide(source: CsvSource, name: str, config: ParseConfig, amounts: int) -> WideFormat:
    months = key_month_range(name)
    if len(months) != amounts:
        raise FileRejected(
            f"the name {name!r} names {len(months)} months ({months[0]}..{months[-1]}), "
            f"but the rows carry {amounts} amounts"
        )
    return WideFormat(
        format_id=WIDE_FORMAT_ID,
        title="headerless back-fill account,m1,m2,... (months from the file name)",
        source=source,
        config=config,
        account_index=0,
        months=[(index + 1, month) for index, month in enumerate(months)],
        description_index=None,
        service_index=None,
        duplicate_policy="collapse",
        month_source=f"the file name ({months[0]}..{months[-1]})",
        width=amounts + 1,
        header=Header(()),
    )
