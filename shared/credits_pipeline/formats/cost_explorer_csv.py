"""AWS Cost Explorer's console "Download as CSV", filtered to Record type = Credit, grouped by linked account.

The table is transposed: the first header cell names the group-by dimension (`Linked account`), then
one column per account (`<id>($)`, or `<name> (<id>)($)`) and `Total costs($)`. A totals row
(`Linked account total`) comes first, then one row per period (`2026-01-01`; daily or monthly).

- Each account cell of a period row is a credit of that account in the period's month (periods are
  summed per month), with the sign Cost Explorer gives it (credits negative). A blank or zero cell is
  no credit.
- The totals row and the `Total costs($)` column are not credits but checks: each account column must
  add up to its totals-row cell, each period row to its `Total costs($)` cell, and the whole file to
  the corner cell, to the cent (formats.totals).
- A column naming an account by name only, or grouped by another dimension (`Service`), cannot say
  which account a credit belongs to: the file is rejected.
- Each period has one row: a second row for a period (a download pasted twice) rejects the file,
  whether or not a totals row would catch it.
- Periods must cover whole months, and the amounts must be credits (formats.cost_explorer).
"""

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from credits_pipeline.domain.accounts import InvalidAccountId
from credits_pipeline.domain.credits import CreditLine, IgnoredRow, SkippedRow
from credits_pipeline.domain.money import InvalidAmount
from credits_pipeline.formats.base import (
    DuplicatePolicy,
    FileRejected,
    FormatInfo,
    FormatReader,
    FormatRow,
    ParseConfig,
)
from credits_pipeline.formats.cost_explorer import CREDIT_FILTER, PeriodCoverage, SignWatch
from credits_pipeline.formats.sources import BadRow, Header, RowSource
from credits_pipeline.formats.tabular import SIGN_RULES, FormatEntry, Match, sample_decimal_comma
from credits_pipeline.formats.totals import FILE, TotalsLedger, total_label
from credits_pipeline.formats.values import (
    AccountCell,
    AccountReader,
    AmountReader,
    InvalidMonth,
    clean_text,
    header_key,
    is_empty,
    parse_month,
)

FORMAT_ID = "aws-cost-explorer-csv/1"
TITLE = "AWS Cost Explorer console download (Download as CSV), Record type Credit, grouped by linked account"
# `<label>($)`: a group's column, or `Total costs($)`. Only this exact form: a hand-made sheet's
# `Amount (USD)` / `Total (USD)` must never be taken for a Cost Explorer download.
_MONEY_COLUMN = re.compile(r"(?P<label>.*?)\s*\(\$\)\s*")
_TOTAL_COLUMN_KEYS = frozenset({"totalcosts", "totalcost"})
ACCOUNT_DIMENSIONS = frozenset({"linkedaccount", "linkedaccounts", "linkedaccountid", "account", "memberaccount"})
_ACCOUNT_IN_LABEL = re.compile(r"(?<!\d)\d{12}(?!\d)")
_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def _money_column(name: str) -> str | None:
    """The label of a `<label>($)` header cell."""
    match = _MONEY_COLUMN.fullmatch(name)
    return match["label"].strip() if match else None


class CostExplorerCsv(FormatEntry):
    format_id = FORMAT_ID
    title = TITLE
    priority = 60

    def match(self, header: Header) -> Match:
        names = header.names
        groups: list[int] = []
        totals: list[int] = []
        for index, name in enumerate(names[1:], start=1):
            label = _money_column(name)
            if label is not None:
                (totals if header_key(label) in _TOTAL_COLUMN_KEYS else groups).append(index)
        missing = []
        if not totals:
            missing.append("Total costs($)")
        if not groups:
            missing.append("one <account id>($) column per linked account")
        present = 2 - len(missing)
        first_is_dimension = bool(names) and bool(names[0].strip()) and _money_column(names[0]) is None
        if not first_is_dimension:
            missing.append("the group-by dimension (Linked account) as the first header cell")
        elif present:
            present += 1
        return Match(
            entry=self,
            full=not missing,
            present=present,
            required=3,
            missing=tuple(missing),
            score=(self.priority, present),
            indexes={"groups": tuple(groups), "total": tuple(totals[:1])},
            header=header,
        )

    def open(self, match: Match, source: RowSource, name: str, config: ParseConfig) -> "CostExplorerCsvFormat":
        return CostExplorerCsvFormat(match, source, config)


class CostExplorerCsvFormat(FormatReader):
    format_id = FORMAT_ID
    duplicate_policy: DuplicatePolicy = "sum"

    def __init__(self, match: Match, source: RowSource, config: ParseConfig) -> None:
        names = match.header.names
        dimension = names[0].strip()
        if header_key(dimension) not in ACCOUNT_DIMENSIONS:
            raise FileRejected(
                f"a Cost Explorer download grouped by {dimension!r}: credits need their accounts; download it "
                f"grouped by Linked account ({CREDIT_FILTER})"
            )
        self.source = source
        self.config = config
        self._width = len(names)
        self._names = names
        accounts = AccountReader(pad=config.pad_account_ids)
        self._groups: list[tuple[int, str]] = []
        unnamed: list[str] = []
        seen: dict[str, str] = {}
        # The accounts whose column wrote the id short: each of their credits is listed as padded.
        self._padded: set[str] = set()
        for index in match.indexes["groups"]:
            cell = _account_of(_money_column(names[index]) or "", accounts)
            if cell is None:
                unnamed.append(names[index])
                continue
            account = cell.account_id
            if account in seen:
                raise FileRejected(f"account {account} has two columns: {seen[account]!r} and {names[index]!r}")
            seen[account] = names[index]
            self._groups.append((index, account))
            if cell.padded:
                self._padded.add(account)
        if unnamed:
            raise FileRejected(
                f"{len(unnamed)} column(s) of this Cost Explorer download name no 12-digit account id "
                f"({', '.join(repr(n) for n in unnamed[:5])}): their credits cannot be given an account; "
                "download it with account ids shown"
            )
        total_index = match.indexes["total"][0]
        self._total = total_index
        self._currency = "USD"  # `($)`: Cost Explorer shows costs in US dollars
        self._amounts = AmountReader(decimal_comma=sample_decimal_comma(source, [i for i, _ in self._groups], 400))
        self._ledger = TotalsLedger(magnitude=False)
        self._coverage = PeriodCoverage(config.reading_date())
        self._period_lines: dict[str, int] = {}  # a period (_period_key) -> its row's line
        self._signs = SignWatch()
        self.info = FormatInfo(
            format_id=FORMAT_ID,
            title=TITLE,
            layout=source.layout,
            amount_column="one column per linked account, signed as Cost Explorer gives it (credits negative)",
            columns=(
                ("period", dimension),
                ("account", f"the header of each account column ({len(self._groups)} accounts)"),
                ("total", f"the {names[total_index]} column and the totals row (checked, not sent)"),
            ),
            sign_rule=SIGN_RULES["signed"],
            month_source=f"the {dimension} cell of each period row (its date's month)",
            line_unit=source.line_unit,
            header_line=match.header.line,
        )

    @property
    def notes(self) -> list[str]:
        return self._coverage.notes()

    def rows(self) -> Iterator[FormatRow]:
        for item in self.source.rows(needed=range(self._width)):
            if isinstance(item, BadRow):
                yield SkippedRow(item.line, None, item.reason)
            elif isinstance(item, tuple):
                yield from self._row(*item)
        self._coverage.check()
        self._signs.check()
        yield from self._ledger.checks()

    def _amount(self, line: int, text: str, what: str, account: str | None = None) -> Decimal | SkippedRow:
        """A cell's amount, or the skipped row saying why it cannot be read."""
        try:
            amount, hinted = self._amounts.read(text)
        except InvalidAmount as error:
            return SkippedRow(line, account, f"{what}: {error}")
        if hinted and hinted != self._currency:
            return SkippedRow(line, account, f"{what}: amount in {hinted}, the columns say {self._currency}")
        return amount

    def _row(self, line: int, cells: list[str]) -> Iterator[CreditLine | SkippedRow | IgnoredRow]:
        if len(cells) > self._width and any(cell.strip() for cell in cells[self._width :]):
            yield SkippedRow(line, None, f"row has {len(cells)} cells, the header has {self._width}")
            return
        cells = cells + [""] * (self._width - len(cells))
        first = clean_text(cells[0])
        if total_label(first) == "total":
            yield from self._totals_row(line, first, cells)
            return
        try:
            month, start = _period(first)
        except InvalidMonth as error:
            yield SkippedRow(line, None, f"not a period: {error}")
            return
        period = _period_key(first, start)
        earlier = self._period_lines.setdefault(period, line)
        if earlier != line:
            raise FileRejected(
                f"a second row for the period {period} (the first is line {earlier}): each period has "
                "one row, so its credits would count twice (is the download pasted twice?)",
                line=line,
            )
        self._coverage.add(month, start, line=line)
        for index, account in self._groups:
            text = cells[index]
            if is_empty(text):
                yield IgnoredRow(line, "no credit in the period")
                continue
            value = self._amount(line, text, self._names[index], account)
            if isinstance(value, SkippedRow):
                yield value
                continue
            if value == 0:
                yield IgnoredRow(line, "no credit in the period")
                continue
            self._signs.add(month, value, line)
            credit = CreditLine(
                line,
                account,
                month,
                value,
                self.config.default_description,
                self.config.default_service,
                self._currency,
                padded=account in self._padded,
            )
            self._ledger.credit(credit, ("column", index), ("line", line))
            yield credit
        total_text = cells[self._total]
        if not is_empty(total_text):
            what = f"the {self._names[self._total]} cell of the {first} row"
            value = self._amount(line, total_text, what)
            if isinstance(value, SkippedRow):
                yield value
            else:
                self._ledger.state(("line", line), line, what, value)

    def _totals_row(self, line: int, label: str, cells: list[str]) -> Iterator[SkippedRow | IgnoredRow]:
        """The totals row: each account column's total, and the file's in the total column."""
        stated = [(index, ("column", index)) for index, _ in self._groups] + [(self._total, FILE)]
        for index, scope in stated:
            if is_empty(cells[index]):
                continue
            what = f"the {label} row's {self._names[index]} cell"
            value = self._amount(line, cells[index], what)
            if isinstance(value, SkippedRow):
                yield value
                continue
            self._ledger.state(scope, line, what, value)
        yield IgnoredRow(line, "totals row")


def _account_of(label: str, accounts: AccountReader) -> AccountCell | None:
    """The account a column's label names: the label itself (`111122223333`), or the one 12-digit id in it
    (`Member (111122223333)`); None when it names none."""
    try:
        return accounts.read(label)
    except InvalidAccountId:
        ids = set(_ACCOUNT_IN_LABEL.findall(label))
        return AccountCell(ids.pop(), padded=False) if len(ids) == 1 else None


_DAY = re.compile(r"\s*(\d{4})-(\d{1,2})-(\d{1,2})")
_HOUR = re.compile(r"[T ](\d{1,2}):(\d{2})")


def _period_key(text: str, start: date) -> str:
    """A period however its cell writes it: `2026-01`, `2026-01-01` and `2026-01-01 00:00:00` are one; an
    hour's period (`2026-01-01T05:00:00Z`) is its own."""
    day = _DAY.match(text)
    base = f"{day[1]}-{int(day[2]):02d}-{int(day[3]):02d}" if day else start.isoformat()
    hour = _HOUR.search(text)
    at = f"T{int(hour[1]):02d}:{hour[2]}" if hour and (int(hour[1]), hour[2]) != (0, "00") else ""
    return base + at


def _period(text: str) -> tuple[str, date]:
    """(month, first day) of a period cell: `2026-01-01` (its day), or a month (`2026-01`: its 1st)."""
    if match := _ISO_DAY.fullmatch(text):
        try:
            day = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            raise InvalidMonth(f"not a date: {text!r}") from None
        return parse_month(text), day
    month = parse_month(text)
    return month, date(int(month[:4]), int(month[5:]), 1)


SPECS = (CostExplorerCsv(),)
