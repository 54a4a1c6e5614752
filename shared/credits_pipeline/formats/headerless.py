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

import heapq
import re
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator, Sequence
from decimal import Decimal
from itertools import filterfalse
from operator import itemgetter

from credits_pipeline.domain.accounts import ID_SPACE, InvalidAccountId
from credits_pipeline.domain.credits import (
    ACCOUNT,
    MAGNITUDE,
    CreditColumns,
    CreditLine,
    IgnoredRow,
    RowOutcome,
    SkippedRow,
)
from credits_pipeline.domain.money import InvalidAmount
from credits_pipeline.domain.months import NAME_IT, NoMonth, month_from_key, month_range_from_key
from credits_pipeline.formats import headerless_lines
from credits_pipeline.formats.base import (
    CreditBlock,
    DuplicatePolicy,
    FileRejected,
    FormatInfo,
    FormatReader,
    FormatRow,
    ParseConfig,
)
from credits_pipeline.formats.headerless_lines import Scan
from credits_pipeline.formats.sheets import MAGNITUDE_NOTE, WideFormat
from credits_pipeline.formats.sources import BadRow, CsvSource, Header, opened
from credits_pipeline.formats.tabular import SIGN_RULES
from credits_pipeline.formats.totals import FILE, TotalsLedger, total_label
from credits_pipeline.formats.values import AccountReader, AmountReader, decide_decimal_comma

FORMAT_ID = "headerless/1"
WIDE_FORMAT_ID = "headerless-wide/1"
_ACCOUNT_LIKE = re.compile(rf"^\s*(?:'|=\")?(?:[\d\-.eE+]|{ID_SPACE}){{1,20}}\"?\s*$")
_AMOUNT_PROBE = AmountReader()
# A larger file is read row by row (streamed): the fast lane holds the whole text while it reads it.
FAST_LANE_BYTES = 256 * 1024**2


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
    columns = [amount_columns(row) for row in sample]  # each row read once: amounts are parsed to tell
    if not sample or columns[0] is None:
        return None
    widths = Counter(width for width in columns if width is not None)
    width = max(widths, key=lambda width: (widths[width], width))
    raw = max(len(row) - 1 for row, width in zip(sample, columns, strict=True) if width is not None)
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
            why = "a file of accounts and amounts takes its month from its name"
            raise FileRejected(f"{error}: {why}; {NAME_IT}") from None
        self._source = source
        self._description = config.default_description
        self._service = config.default_service
        self._accounts = AccountReader(pad=config.pad_account_ids)
        self._known = config.known_accounts
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
        fast = self._fast_lane()
        if fast is None:
            yield from self.rows_one_by_one()
            return
        rows, stop = fast
        yield from rows
        if stop is not None:
            raise stop[1]  # where the row path stops: `normalise` has seen every row before it

    def rows_one_by_one(self) -> Iterator[FormatRow]:
        """Every row read by the per-row rules: what `rows` gives for a file the fast lane does not take, and
        the reference the fast lane gives exactly (tests/unit/formats/test_headerless_fast_lane.py)."""
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
            account_id, padded = self._accounts.read(account_text)
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
            padded=padded,
        )

    def _fast_lane(self) -> tuple[list[FormatRow], tuple[int, FileRejected] | None] | None:
        """The file's rows with its clean lines as one CreditBlock, exactly as `rows` would give them one by one,
        and the rejection a row raises (after the rows before it); None when the file is not plain enough (see
        headerless_lines): it is then read row by row."""
        text = self._plain_text()
        scan = None if text is None else headerless_lines.scan(text, self._source.content.limits.max_columns)
        if scan is None:
            return None
        del text
        others, stop = self._other_rows(scan.others)
        block = self._columns(scan.texts, scan.lines)
        # A clean line whose account another row also gives (or that is unknown) is a CreditLine, in line
        # order: `normalise` decides its duplicates and conflicts as always.
        slow = {outcome.account_id for _, outcome in others if isinstance(outcome, CreditLine)}
        special = _held(block, slow) | block.repeated() | self._unknown(block)
        singles: list[tuple[int, RowOutcome]] = []
        named, first_named = scan.dollars, scan.first_dollar  # the block's rows with `$`, the first one's line
        if special:
            block, singles, named, first_named = self._split(scan, special)
        rows: list[FormatRow] = []
        placed = not len(block)
        for line, outcome in heapq.merge(others, singles, key=itemgetter(0)):
            if stop is not None and line > stop[0]:
                break
            if not placed and line > first_named:  # the file's currencies are counted in the order it names them
                rows.append(self._block(block, named))
                placed = True
            if isinstance(outcome, CreditLine):
                self._ledger.credit(outcome)
            rows.append(outcome)
        if not placed:
            rows.append(self._block(block, named))
        if stop is None:
            rows.extend(self._ledger.checks())
        return rows, stop

    def _plain_text(self) -> str | None:
        """The whole text of a one-part, comma-delimited, decimal-point file; None for any other."""
        parts = self._source.content.parts
        if len(parts) != 1 or self._source.delimiter != "," or self._amounts.decimal_comma:
            return None
        try:
            with opened(parts[0]) as stream:
                if stream.seekable():
                    stream.seek(0)
                data = stream.read(FAST_LANE_BYTES + 1)
            if len(data) > FAST_LANE_BYTES:
                return None
            return data.decode(self._source.encoding)
        except Exception:  # damaged bytes: the row-by-row read rejects them as it always did, with their line
            return None

    def _other_rows(
        self, others: list[tuple[int, list[str]]]
    ) -> tuple[list[tuple[int, RowOutcome]], tuple[int, FileRejected] | None]:
        """Each other row read by the per-row rules, and the rejection a row raised (a file stating too many
        totals), with no row read after it."""
        outcomes: list[tuple[int, RowOutcome]] = []
        for line, cells in others:
            try:
                outcomes.append((line, self._row(line, cells)))
            except FileRejected as rejection:
                return outcomes, (line, rejection)
        return outcomes, None

    def _columns(self, texts: list[str], lines: Sequence[int]) -> CreditColumns:
        return CreditColumns(self._month, self._description, self._service, texts, lines)

    def _unknown(self, block: CreditColumns) -> set[str]:
        known = self._known
        return set() if known is None else set(filterfalse(known.__contains__, block.accounts()))

    def _split(self, scan: Scan, special: set[str]) -> tuple[CreditColumns, list[tuple[int, RowOutcome]], int, int]:
        """The block without the `special` accounts' lines, those lines as CreditLines, and how many of the
        block's rows name `$` and the first one's line."""
        texts: list[str] = []
        lines = array("l")
        picked: list[tuple[int, str]] = []
        for text, line in zip(scan.texts, scan.lines, strict=True):
            if ACCOUNT(text) in special:
                picked.append((line, text))
            else:
                texts.append(text)
                lines.append(line)
        picked_lines = {line for line, _ in picked}
        last_picked = max(picked_lines)
        dollar, first_named = set(), 0
        for line in scan.dollar_lines():
            if line in picked_lines:
                dollar.add(line)
            elif not first_named and _holds(scan.lines, line):
                first_named = line
            if first_named and line >= last_picked:
                break
        singles: list[tuple[int, RowOutcome]] = []
        for line, text in picked:
            account = ACCOUNT(text)
            cost = Decimal(MAGNITUDE(text)).copy_negate()
            currency = "USD" if line in dollar else ""
            credit = CreditLine(line, account, self._month, cost, self._description, self._service, currency)
            singles.append((line, credit))
        return self._columns(texts, lines), singles, scan.dollars - len(dollar), first_named

    def _block(self, block: CreditColumns, named: int) -> CreditBlock:
        if self._ledger.stated:  # only a stated total needs the sum (every row was read by now: see _fast_lane)
            self._ledger.credit_sum(self._month, block.total)
        return CreditBlock(block, (("USD", named),) if named else ())

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


def _held(block: CreditColumns, accounts: set[str]) -> set[str]:
    """Which of `accounts` the block holds."""
    texts = block.texts
    held = set()
    for account in accounts:
        index = bisect_left(texts, account)
        if index < len(texts) and texts[index].startswith(account):
            held.add(account)
    return held


def _holds(lines: Sequence[int], line: int) -> bool:
    """Whether the ascending `lines` hold `line`."""
    index = bisect_left(lines, line)
    return index < len(lines) and lines[index] == line


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
