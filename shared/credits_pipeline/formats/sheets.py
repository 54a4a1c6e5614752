"""Hand-made spreadsheets: long (one row per credit) and wide (one column per month).

Header names vary, so each role has aliases (matched ignoring case, spaces and punctuation). Two
columns that could give the account or the amount are told apart by their first rows (the one whose
cells are account ids, or amounts; of amounts, the one named for credits; or both hold the same); two
that still could (`AWS Account` beside `Linked Account ID`, both of ids) reject the file naming them,
and a column mapping names the one to read. The header may follow a few title rows. Amounts are
magnitudes (people write credits as positive numbers; a minus sign is ignored), and rows are summed
per account, month, service and description.
A `Total` / `Grand total` row (and a wide sheet's `Total` column) is not a credit but a check: the
credits read must add up to it, to the cent, or the file is rejected (see formats.totals). A month
column may hold months (`2024-09`, `Sep 2024`, `09/2024`) or dates (`2024-09-15`: its month);
day/month dates such as `09/01/2024` are refused.

A wide sheet never loses a month column's money without a word: a header that looks like a month but
cannot be read as one (`10/1/2025`: October or January? `Dec 2025 (est)`) rejects the file naming the
column. Other columns (`YTD`, `Q4 2025`, a rate, notes) are not read.
"""

from collections.abc import Iterator, Sequence
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
from credits_pipeline.formats.cur import MAP_CREDIT_REFUNDS
from credits_pipeline.formats.sources import BadRow, Header, RowSource
from credits_pipeline.formats.tabular import (
    SIGN_RULES,
    Column,
    FormatEntry,
    Match,
    TabularSpec,
    header_rejected,
    sample_decimal_comma,
    settle_ambiguous,
)
from credits_pipeline.formats.totals import FILE, Scope, TotalsLedger, total_label, total_label_beside
from credits_pipeline.formats.values import (
    AccountReader,
    AmountReader,
    InvalidMonth,
    clean_text,
    header_key,
    is_empty,
    looks_like_month,
    parse_month,
)

ACCOUNT_NAMES = (
    "Account ID",
    "AWS Account",
    "AWS Account ID",
    "Linked account",
    "Linked Account ID",
    "Usage Account ID",
    "Account",
    "Account Number",
    "Account No",
    "Member Account",
)
MONTH_NAMES = (
    "Month",
    "Billing Period",
    "Period",
    "Invoice Month",
    "Billing Month",
    "Usage Month",
    "Date",
    "Invoice Date",
)
AMOUNT_NAMES = (
    "Amount",
    "Credit Amount",
    "Credits Applied",
    "Credit Applied",
    "Amount (USD)",
    "Amount USD",
    "Credit Amount (USD)",
    "Credit",
    "Credits",
    "Cost",
)
DESCRIPTION_NAMES = ("Credit Name", "Description", "Credit Type", "Program", "Credit Description")
SERVICE_NAMES = ("Service", "Product", "Product Code", "Service Name", "Product Name")
CURRENCY_NAMES = ("Currency", "Currency Code")
ROW_TYPE_NAMES = ("Record Type", "Line Item Type", "Charge Type", "Charge Category", "Row Type")
MAGNITUDE_NOTE = "a magnitude: every amount is a credit, whatever its sign"

LONG = TabularSpec(
    format_id="sheet-long/1",
    title="hand-made sheet, one row per credit",
    columns=(
        # Two columns that could give the account or the amount are told apart by their values, or reject
        # the file (which one the sheet means decides the money: `tabular.settle_ambiguous`); of the other
        # roles', the best named.
        Column("account", ACCOUNT_NAMES, required=True, one_only=True),
        Column("amount", AMOUNT_NAMES, required=True, one_only=True),
        Column("month", MONTH_NAMES),
        Column("description", DESCRIPTION_NAMES),
        Column("service", SERVICE_NAMES),
        Column("currency", CURRENCY_NAMES),
        Column("row_type", ROW_TYPE_NAMES),
    ),
    sign="magnitude",
    # A sheet that types its rows (a Cost Explorer or billing download pasted into it): only credit rows
    # count, or its usage would be sent as credits (every amount is a magnitude). `Credit` as AWS types
    # them (or `Credits`); a type that says credit otherwise (`Credit Reversal`) rejects the file, and so
    # do credit rows of both signs (pasted AWS data, whose positive credit is a reversal).
    credit_types=frozenset({"credit", "credits"}),
    unclear_type_word="credit",
    one_sign_credits=True,
    conditional_types=MAP_CREDIT_REFUNDS,  # a MAP credit typed Refund, as in the CUR it was copied from
    priority=10,
    hand_made=True,
    header_search=True,
    month_from_name=True,
    amount_note=MAGNITUDE_NOTE,
    collapse_when_only=frozenset({"account", "amount"}),  # `account,amount`: the monthly file with a header
)

_ACCOUNT_KEYS = frozenset(header_key(name) for name in ACCOUNT_NAMES)
_DESCRIPTION_KEYS = tuple(header_key(name) for name in DESCRIPTION_NAMES)
_SERVICE_KEYS = tuple(header_key(name) for name in SERVICE_NAMES)


def month_columns(names: Sequence[str], skip: set[int]) -> list[tuple[int, str]]:
    """The header cells that name a month, with their month."""
    found = []
    for index, name in enumerate(names):
        if index in skip or not name.strip():
            continue
        try:
            found.append((index, parse_month(name, month_column=True)))
        except ValueError:
            continue
    return found


class WideSheet(FormatEntry):
    """`Account ID, Sep 2024, Oct 2024, ...`: one amount column per month, named by the header."""

    format_id = "sheet-wide/1"
    title = "hand-made sheet, one column per month"
    priority = 5
    header_search = True

    def match(self, header: Header) -> Match:
        keys = header.keys
        accounts = tuple(i for i, key in enumerate(keys) if key in _ACCOUNT_KEYS)
        account = accounts[0] if accounts else None
        if account is None and header.names and not header.names[0].strip():
            account = 0  # a back-fill's header row often leaves the account column unnamed
        roles: dict[str, tuple[int, ...]] = {}
        for role, aliases in (("description", _DESCRIPTION_KEYS), ("service", _SERVICE_KEYS)):
            index = next((keys.index(key) for key in aliases if key in keys), None)
            if index is not None:
                roles[role] = (index,)
        skip = {i for indexes in roles.values() for i in indexes} | ({account} if account is not None else set())
        months = month_columns(header.names, skip)
        month_indexes = {index for index, _ in months}
        total = next(
            (
                index
                for index, name in enumerate(header.names)
                if index not in skip and index not in month_indexes and total_label(name) == "total"
            ),
            None,
        )
        if total is not None:
            roles["total"] = (total,)
        unreadable = tuple(
            index
            for index, name in enumerate(header.names)
            if index not in skip and index not in month_indexes and index != total and looks_like_month(name)
        )
        if unreadable:
            roles["unreadable months"] = unreadable  # the file is this format's, to be rejected naming them
        missing = []
        if account is None:
            missing.append(f"account (one of: {', '.join(ACCOUNT_NAMES)}, or an unnamed first column)")
        else:
            roles["account"] = (account,)
        if not months and not unreadable:
            missing.append("columns named by a month (2024-09, Sep 2024, ...)")
        else:
            roles["months"] = tuple(index for index, _ in months)
        present = 2 - len(missing)
        return Match(
            entry=self,
            full=not missing,
            present=present,
            required=2,
            missing=tuple(missing),
            score=(self.priority, present + len(months)),
            indexes=roles,
            header=header,
            ambiguous={"account": accounts} if len(accounts) > 1 else {},
        )

    def open(self, match: Match, source: RowSource, name: str, config: ParseConfig) -> "WideFormat":
        match = settle_ambiguous(match, source, config)
        names = match.header.names
        _refuse_unreadable_months(match)
        months = [(index, parse_month(names[index], month_column=True)) for index in match.indexes["months"]]
        return WideFormat(
            format_id=self.format_id,
            title=self.title,
            source=source,
            config=config,
            account_index=match.indexes["account"][0],
            months=months,
            description_index=match.indexes.get("description", (None,))[0],
            service_index=match.indexes.get("service", (None,))[0],
            total_index=match.indexes.get("total", (None,))[0],
            # Nothing but an account and its months: the monthly file's wide variant, its months named by a header
            # row (reference §1), whose identical rows collapse; a hand-made sheet's repeated credits add up.
            duplicate_policy="collapse" if match.only_roles({"account", "months", "total"}) else "sum",
            month_source="the header row: " + ", ".join(names[i] for i, _ in months),
            width=len(names),
            header=match.header,
        )


def _refuse_unreadable_months(match: Match) -> None:
    """A header that looks like a month, not read as one: its column's credits would be lost."""
    indexes = match.indexes.get("unreadable months", ())
    if not indexes:
        return
    problems = []
    for index in indexes:
        name = match.header.names[index]
        try:
            parse_month(name, month_column=True)
            reason = "not a month column"  # unreachable: the header would be a month column
        except InvalidMonth as error:
            reason = str(error)
        problems.append(f"column {index + 1} ({name.strip()!r}): {reason}")
    raise header_rejected(
        match, "a month column's header cannot be read", problems, "sent without that column's credits"
    )


class WideFormat(FormatReader):
    """Reads one credit per month cell: blank cells are no credit, amounts are magnitudes.

    A `Total` row states each month's total (and, in its `Total` column cell, the file's); a `Total`
    column states each row's total. Both are checked, never sent.
    """

    def __init__(
        self,
        *,
        format_id: str,
        title: str,
        source: RowSource,
        config: ParseConfig,
        account_index: int,
        months: list[tuple[int, str]],
        description_index: int | None,
        service_index: int | None,
        duplicate_policy: DuplicatePolicy,
        total_index: int | None = None,
        month_source: str,
        width: int,
        header: Header,
    ) -> None:
        seen: dict[str, int] = {}
        for index, month in months:
            if month in seen:
                raise FileRejected(f"month {month} has two columns ({seen[month] + 1} and {index + 1})")
            seen[month] = index
        self.format_id = format_id
        self.duplicate_policy: DuplicatePolicy = duplicate_policy
        self.source = source
        self.config = config
        self._account = account_index
        self._months = months
        self._description = description_index
        self._service = service_index
        self._total = total_index
        # The cells that hold amounts: a total row's label is never one of them.
        self._amount_cells = frozenset(i for i, _ in months) | ({total_index} if total_index is not None else set())
        self._total_name = header.names[total_index] if total_index is not None else ""
        self._ledger = TotalsLedger(magnitude=True, collapse=duplicate_policy == "collapse")
        self._width = width
        self._accounts = AccountReader(pad=config.pad_account_ids)
        self._amounts = AmountReader(decimal_comma=sample_decimal_comma(source, [i for i, _ in months], 400))
        columns = [("account", header.names[account_index] if header.names else "column 1")]
        columns.append(("amount", ", ".join(header.names[i] if header.names else f"column {i + 1}" for i, _ in months)))
        if description_index is not None:
            columns.append(("description", header.names[description_index]))
        if service_index is not None:
            columns.append(("service", header.names[service_index]))
        self.info = FormatInfo(
            format_id=format_id,
            title=title,
            layout=source.layout,
            amount_column=f"one column per month ({MAGNITUDE_NOTE})",
            columns=tuple(columns),
            sign_rule=SIGN_RULES["magnitude"],
            month_source=month_source,
            line_unit=source.line_unit,
            header_line=header.line,
        )

    def rows(self) -> Iterator[FormatRow]:
        extra = {self._description or 0, self._service or 0, self._total or 0}
        needed = sorted({self._account, *(i for i, _ in self._months)} | extra)
        for item in self.source.rows(needed=needed):
            if isinstance(item, BadRow):
                yield SkippedRow(item.line, None, item.reason)
            elif isinstance(item, tuple):
                yield from self._row(*item)
        yield from self._ledger.checks()

    def _total_row(self, line: int, cells: list[str]) -> Iterator[SkippedRow | IgnoredRow]:
        """The Total row: each month cell states that month's total, its Total column cell the file's."""
        stated: list[tuple[int, Scope, str]] = [
            (index, ("month", month), f"the Total row for {month}") for index, month in self._months
        ]
        if self._total is not None:
            stated.append((self._total, FILE, f"the Total row's {self._total_name} cell"))
        for index, scope, what in stated:
            if is_empty(cells[index]):
                continue
            try:
                amount, _ = self._amounts.read(cells[index])
            except InvalidAmount as error:
                yield SkippedRow(line, None, f"{what}: {error}")
                continue
            self._ledger.state(scope, line, what, amount.copy_abs().copy_negate())
        yield IgnoredRow(line, "total row")

    def _row(self, line: int, cells: list[str]) -> Iterator[CreditLine | SkippedRow | IgnoredRow]:
        if len(cells) > self._width and any(cell.strip() for cell in cells[self._width :]):
            yield SkippedRow(line, cells[0].strip() or None, f"row has {len(cells)} cells, expected {self._width}")
            return
        cells = cells + [""] * (self._width - len(cells))
        account_text = clean_text(cells[self._account])
        label = total_label(account_text) or total_label_beside(cells, account_text, self._amount_cells)
        if label == "subtotal":
            yield IgnoredRow(line, "subtotal row (not checked: its rows are not stated)")
            return
        if label == "total":
            yield from self._total_row(line, cells)
            return
        try:
            account_id, padded = self._accounts.read(cells[self._account])
        except InvalidAccountId as error:
            yield SkippedRow(line, account_text or None, str(error))
            return
        description = (clean_text(cells[self._description]) if self._description is not None else "") or (
            self.config.default_description
        )
        service = (clean_text(cells[self._service]) if self._service is not None else "") or self.config.default_service
        for index, month in self._months:
            text = cells[index]
            if is_empty(text):
                yield IgnoredRow(line, "blank month cell")
                continue
            try:
                amount, currency = self._amounts.read(text)
            except InvalidAmount as error:
                yield SkippedRow(line, account_id, f"{month}: {error}")
                continue
            cost = amount.copy_abs().copy_negate() if amount else Decimal(0)
            credit = CreditLine(line, account_id, month, cost, description, service, currency, padded=padded)
            self._ledger.credit(credit, *([("line", line)] if self._total is not None else []))
            yield credit
        if self._total is not None and not is_empty(cells[self._total]):
            what = f"the {self._total_name} column"
            try:
                amount, _ = self._amounts.read(cells[self._total])
            except InvalidAmount as error:
                yield SkippedRow(line, account_id, f"{what}: {error}")
                return
            self._ledger.state(("line", line), line, what, amount.copy_abs().copy_negate())


SPECS: tuple[FormatEntry, ...] = (LONG, WideSheet())
