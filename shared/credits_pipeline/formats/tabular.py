"""Headered formats as data: which columns give account, month, amount, ... and how to read them.

A `TabularSpec` is a format: an id with a version, the columns it recognises (by name, never by
position), the row types that are credits, and the sign rule. Adding a variant is adding a spec.
`TabularFormat` reads any spec from any source (CSV, Parquet, JSON records).
"""

import re
from collections.abc import Callable, Container, Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from itertools import islice
from typing import Literal

from credits_pipeline.domain.accounts import InvalidAccountId
from credits_pipeline.domain.credits import CreditLine, IgnoredRow, SkippedRow
from credits_pipeline.domain.money import InvalidAmount
from credits_pipeline.domain.months import NAME_IT, NoMonth, month_from_key
from credits_pipeline.formats.base import (
    CreditFormat,
    DuplicatePolicy,
    FileRejected,
    FormatInfo,
    FormatReader,
    FormatRow,
    IgnoredRows,
    ParseConfig,
)
from credits_pipeline.formats.sources import BadRow, Header, Prefilter, RowSource
from credits_pipeline.formats.totals import FILE, Scope, TotalsLedger, account_of_total, total_label, total_label_beside
from credits_pipeline.formats.values import (
    AccountReader,
    AmountReader,
    InvalidMonth,
    MonthReader,
    clean_text,
    decide_decimal_comma,
    header_key,
    is_month_header,
)

Role = Literal[
    "account", "month", "amount", "description", "service", "currency", "row_type", "provider", "estimated", "invoice"
]
Sign = Literal["signed", "magnitude"]
HeaderStyle = Literal["any", "slash", "no-slash"]

SIGN_RULES: dict[Sign, str] = {
    "signed": "signed as the file states it: credits negative, reversals and corrections positive",
    "magnitude": "magnitudes: every amount is a credit whatever its sign (sent as a negative cost)",
}
# What a total row states the total of: the whole file, the rows of its invoice, or of its account.
TotalScope = Literal["file", "invoice", "account"]
_ESTIMATED = frozenset({"true", "yes", "1", "y", "estimated"})
_SAMPLE_ROWS = 200


def sample_decimal_comma(source: RowSource, indexes: Sequence[int], limit: int) -> bool:
    """The file's decimal mark (see `decide_decimal_comma`) from the first `limit` cells of `indexes`."""
    if source.line_unit == "row":
        return False  # Parquet numbers come as their string form, with a decimal point
    sample: list[str] = []
    for cells in data_rows(source, indexes):
        sample.extend(cells[index] for index in indexes if index < len(cells))
        if len(sample) >= limit:
            break
    return decide_decimal_comma(getattr(source, "delimiter", ","), sample)


def data_rows(source: RowSource, needed: Sequence[int]) -> Iterator[list[str]]:
    """The cells of the file's data rows from its first (a row the source could not split aside), for a
    sample taken before the rows are read."""
    for item in source.rows(needed=needed):
        if isinstance(item, tuple):
            yield item[1]


@dataclass(frozen=True)
class Column:
    """A role and the header names that give it, best first. `label` names it in messages."""

    role: Role
    names: tuple[str, ...]
    required: bool = False
    label: str = ""
    # Read the first non-empty of the listed columns row by row (service: product code, else name).
    fallback: bool = False
    # The names are aliases, none better than another (a hand-made sheet's): a header with two columns that
    # match (or one name twice) is ambiguous, and the file is rejected naming them, never read from the first.
    one_only: bool = False
    # A month column that holds billing periods' starts (not usage times): see `values.parse_month`.
    period_start: bool = False

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(header_key(name) for name in self.names)

    def describe(self) -> str:
        if self.label:
            return self.label
        if len(self.names) == 1:
            return self.names[0]
        return f"{self.role} (one of: {', '.join(self.names)})"


@dataclass(frozen=True)
class Match:
    """How well a header fits a format; `full` when every required column is there."""

    entry: "FormatEntry"
    full: bool
    present: int
    required: int
    missing: tuple[str, ...]
    score: tuple[int, int]
    indexes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    header: Header = field(default_factory=lambda: Header(()))
    # Roles that several columns could give (see `Column.one_only`): `refuse_ambiguous` rejects the file.
    ambiguous: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def only_roles(self, roles: Container[str]) -> bool:
        """Whether the header has no column but these roles' (an unnamed one aside): a `Team` or `Notes`
        column beside them makes two rows that differ there two credits."""
        known = {index for indexes in self.indexes.values() for index in indexes}
        named = {index for index, name in enumerate(self.header.names) if name.strip()}
        return all(role in roles for role in self.indexes) and named <= known

    @property
    def closeness(self) -> tuple[float, int]:
        return (self.present / self.required if self.required else 0.0, self.present)


class FormatEntry:
    """A registered format: it scores a header and opens a reader for a source."""

    format_id: str
    title: str
    priority: int
    # May the header follow title rows (hand-made sheets)?
    header_search: bool = False
    # Written by AWS as one or more files of one whole (an export's parts: CUR, CUR 2.0, FOCUS; an API
    # response's saved pages), whose rows carry their month: the members of a zip are read as one file
    # only for such a format (formats.registry).
    export_parts: bool = False

    def match(self, header: Header) -> Match:
        raise NotImplementedError

    def open(self, match: Match, source: RowSource, name: str, config: ParseConfig) -> CreditFormat:
        raise NotImplementedError


@dataclass(frozen=True)
class TabularSpec(FormatEntry):
    format_id: str
    title: str
    columns: tuple[Column, ...]
    sign: Sign
    priority: int = 0
    duplicate_policy: DuplicatePolicy = "sum"
    # Roles that, when they are all a file's columns, make it the monthly file with a header row (reference
    # §1, where identical duplicate rows occur): its identical rows collapse, as the headerless file's do.
    collapse_when_only: frozenset[str] = frozenset()
    # Row types (casefolded) that are credits; empty: the format has no row types, every row counts.
    credit_types: frozenset[str] = frozenset()
    # A row type holding this word (or its plural) that is not one of `credit_types` says credit without being
    # a credit type (a hand-made sheet's `Credit Reversal`, `Non-credit usage`, `Promotional Credit`): whether
    # its rows are credits is not known, and the file is rejected naming it and its first line.
    unclear_type_word: str = ""
    # Credit rows (typed, of a magnitude format) of both signs reject the file: AWS data pasted into a sheet,
    # whose positive credit is a reversal, which a magnitude reading would add as one more credit.
    one_sign_credits: bool = False
    # Row types that are credits only when the description holds a marker: (type, marker), casefolded.
    conditional_types: tuple[tuple[str, str], ...] = ()
    # Groups of columns of which at least one must be present (what tells versions apart).
    markers: tuple[tuple[str, ...], ...] = ()
    header_style: HeaderStyle = "any"
    aws_provider_only: bool = False
    # Machine-written: a row with another number of cells than the header is broken.
    strict_width: bool = False
    hand_made: bool = False
    header_search: bool = False
    export_parts: bool = False
    amount_note: str = ""
    # Without a month column, the month comes from the object key (`credits-2026-01.csv`).
    month_from_name: bool = False
    decimal_comma: bool | None = None
    fixed_currency: str = ""
    # Row types (casefolded) that state a total of the amount column, and what they total (checked, never
    # summed). Hand-made formats recognise a `Total` row by its account cell instead.
    total_rows: tuple[tuple[str, TotalScope], ...] = ()
    # A row of a credit type carries a credit only when its amount is non-zero (an invoice's line items:
    # most have no credits); otherwise a zero or blank amount is a skipped row.
    credit_when_nonzero: bool = False
    # Credit row types (as the file spells them) whose account may come from the account column's later
    # names; a credit row of another type without the first is skipped, never given a later one (the
    # invoice CSV's payer is not a linked account's stand-in). Empty: every row's may.
    account_fallback_types: tuple[str, ...] = ()

    def match(self, header: Header) -> Match:
        keys = header.keys
        positions: dict[str, list[int]] = {}
        for index, key in enumerate(keys):
            if key:
                positions.setdefault(key, []).append(index)
        indexes: dict[str, tuple[int, ...]] = {}
        ambiguous: dict[str, tuple[int, ...]] = {}
        missing: list[str] = []
        present = required = matched = 0
        for column in self.columns:
            found = [positions[key][0] for key in column.keys if key in positions]
            every = sorted({index for key in column.keys for index in positions.get(key, ())})
            if column.one_only and len(every) > 1:
                ambiguous[column.role] = tuple(every)
            if found:
                indexes[column.role] = tuple(found) if column.fallback else (found[0],)
                matched += 1
            if column.required:
                required += 1
                if found:
                    present += 1
                else:
                    missing.append(column.describe())
        for group in self.markers:
            required += 1
            if any(header_key(name) in positions for name in group):
                present += 1
                matched += 1
            else:
                missing.append(" or ".join(group))
        style_ok = self._style_ok(header.names)
        if not style_ok:
            missing.append("category/Column style headers" if self.header_style == "slash" else "snake_case headers")
        return Match(
            entry=self,
            full=not missing,
            present=present,
            required=required + (0 if style_ok else 1),
            missing=tuple(missing),
            score=(self.priority, matched),
            indexes=indexes,
            header=header,
            ambiguous=ambiguous,
        )

    def _style_ok(self, names: Sequence[str]) -> bool:
        if self.header_style == "slash":
            return any("/" in name for name in names)
        if self.header_style == "no-slash":
            return not any("/" in name for name in names)
        return True

    def open(self, match: Match, source: RowSource, name: str, config: ParseConfig) -> "TabularFormat":
        return TabularFormat(self, match, source, name, config)


# Data rows read to tell which of two columns gives the account or the amount.
_SETTLE_ROWS = 200
# The share of a column's sampled cells (blanks and total rows aside) that must read as the role.
_READS_AS_ROLE = Decimal("0.9")


def settle_ambiguous(match: Match, source: RowSource, config: ParseConfig) -> Match:
    """Two columns (or more) that could give the account or the amount (see `Column.one_only`), settled by
    their first rows: the one column whose cells read as that role (`Account` of names beside `Account ID`),
    for the amount the one named for credits (`Credits` beside `Amount` and `Net`), or columns that hold the
    same values. Otherwise which one the file means is not known, and either reading can send the wrong money
    (a payer's id for every linked account's): the file is rejected naming them."""
    if not match.ambiguous:
        return match
    needed = sorted({index for indexes in match.ambiguous.values() for index in indexes})
    sample = list(islice(data_rows(source, needed), _SETTLE_ROWS))
    chosen: dict[str, tuple[int, ...]] = {}
    unsettled: dict[str, tuple[int, ...]] = {}
    for role, indexes in match.ambiguous.items():
        index = _settled(role, indexes, match, sample, config=config, delimiter=getattr(source, "delimiter", ","))
        if index is None:
            unsettled[role] = indexes
        else:
            chosen[role] = (index,)
    refuse_ambiguous(replace(match, ambiguous=unsettled))
    return replace(match, indexes={**match.indexes, **chosen}, ambiguous={})


def _settled(
    role: str, indexes: tuple[int, ...], match: Match, sample: list[list[str]], *, config: ParseConfig, delimiter: str
) -> int | None:
    cells = {
        index: [cell for row in sample if index < len(row) and (cell := row[index].strip()) and not total_label(cell)]
        for index in indexes
    }
    first = match.indexes.get(role, (indexes[0],))[0]  # the best-named: the aliases' order
    if not any(cells.values()):
        return first  # no data to tell them by: no row to send either
    if role == "account":
        accounts = AccountReader(pad=config.pad_account_ids)
        readable = [index for index in indexes if _reads(cells[index], accounts.read, InvalidAccountId)]
    else:
        amounts = AmountReader(decimal_comma=decide_decimal_comma(delimiter, [c for i in indexes for c in cells[i]]))
        readable = [index for index in indexes if _reads(cells[index], amounts.read, InvalidAmount)]
        credit_named = [index for index in readable if "credit" in header_key(match.header.names[index])]
        if len(readable) > 1 and len(credit_named) == 1:
            return credit_named[0]
    if len(readable) == 1:
        return readable[0]
    same = len(readable) > 1 and all(
        len({row[index].strip() if index < len(row) else "" for index in readable}) == 1 for row in sample
    )
    return (first if first in readable else readable[0]) if same else None


def _reads(cells: list[str], read: Callable[[str], object], invalid: type[Exception]) -> bool:
    if not cells:
        return False
    good = 0
    for cell in cells:
        try:
            read(cell)
            good += 1
        except invalid:
            pass
    return Decimal(good) >= _READS_AS_ROLE * len(cells)


def refuse_ambiguous(match: Match) -> None:
    """Two columns (or more) that could give one role: which one the file means is not known, and either
    reading can send the wrong money (a charges column as credits, a payer's id for every linked account's)."""
    if not match.ambiguous:
        return
    names = match.header.names
    problems = []
    for role, indexes in match.ambiguous.items():
        listed = [f"{names[index].strip()!r} (column {index + 1})" for index in indexes]
        columns = ", ".join(listed[:-1]) + f" and {listed[-1]}"
        if len({header_key(names[index]) for index in indexes}) == 1:
            fix = "keep only the column to read, or rename the others"
        else:
            setting = '"row_type": {"column": ...}' if role == "row_type" else f'"columns": {{"{role}": ...}}'
            fix = f"keep only the column to read, or name it in a column mapping (setting ColumnMappingsUri, {setting})"
        count = "two" if len(indexes) == 2 else str(len(indexes))
        problems.append(f"{count} columns could give the {role}: {columns}; {fix}")
    raise header_rejected(match, "the header is ambiguous", problems, "read from one of them at a guess")


def header_rejected(match: Match, what: str, problems: list[str], instead: str) -> FileRejected:
    """A file rejected for its header, on the header's line: `what` and the first problem, and what reading it
    anyway would have done (`instead`)."""
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return FileRejected(
        f"{what}, {problems[0]}{more}; the file is rejected rather than {instead}",
        line=match.header.line or None,
        problems=problems,
    )


class TabularFormat(FormatReader):
    """Reads one spec's rows from a source: every row a credit line, a skipped row or an ignored row."""

    def __init__(self, spec: TabularSpec, match: Match, source: RowSource, name: str, config: ParseConfig) -> None:
        match = settle_ambiguous(match, source, config)
        self.spec = spec
        self.format_id = spec.format_id
        bare = bool(spec.collapse_when_only) and match.only_roles(spec.collapse_when_only)
        self.duplicate_policy: DuplicatePolicy = "collapse" if bare else spec.duplicate_policy
        self.source = source
        self.config = config
        self._estimated = 0
        header = match.header
        self._width = len(header.names)
        self._index = {role: indexes for role, indexes in match.indexes.items()}
        self._fixed_month = ""
        if "month" not in self._index:
            if not spec.month_from_name:
                raise FileRejected(f"{spec.format_id}: no month column")
            try:
                self._fixed_month = month_from_key(name)
            except NoMonth as error:
                raise FileRejected(f"{error}, and the file has no month column: {NAME_IT}, or add one") from None
        self._accounts = AccountReader(pad=config.pad_account_ids)
        month_column = next((column for column in spec.columns if column.role == "month"), None)
        self._months = MonthReader(
            period_start=month_column is not None and month_column.period_start,
            # `Sep 24` under `Month` is September 2024; under `Date`, a day with no year.
            month_column="month" in self._index and is_month_header(header.names[self._index["month"][0]]),
        )
        decimal_comma = spec.decimal_comma
        if decimal_comma is None:
            decimal_comma = sample_decimal_comma(source, self._index["amount"][:1], _SAMPLE_ROWS)
        self._amounts = AmountReader(decimal_comma=decimal_comma)
        self._type_kinds: dict[str, str] = {}
        self._first_of_sign: dict[bool, tuple[int, Decimal]] = {}  # negative? -> (line, amount) of a credit row
        self._total_rows = dict(spec.total_rows)
        self._ledger = (
            TotalsLedger(magnitude=spec.sign == "magnitude", collapse=self.duplicate_policy == "collapse")
            if spec.hand_made or spec.total_rows
            else None
        )
        accounts = self._index.get("account", ())
        self._fallback_types = frozenset(type_.casefold() for type_ in spec.account_fallback_types)
        self._no_own_account = (
            f"row without a {header.names[accounts[0]]}: the "
            f"{' / '.join(header.names[i] for i in accounts[1:])} is the account of "
            f"{' and '.join(spec.account_fallback_types)} rows only"
            if self._fallback_types and len(accounts) > 1
            else ""
        )
        self._needed = sorted({index for indexes in self._index.values() for index in indexes})
        self.info = FormatInfo(
            format_id=spec.format_id,
            title=spec.title,
            layout=source.layout,
            amount_column=self._amount_column(header),
            columns=tuple(
                (role, " / ".join(header.names[i] for i in indexes)) for role, indexes in self._index.items()
            ),
            sign_rule=SIGN_RULES[spec.sign],
            month_source=(
                f"column {header.names[self._index['month'][0]]}"
                if "month" in self._index
                else f"the file name ({self._fixed_month})"
            ),
            line_unit=source.line_unit,
            header_line=header.line,
        )

    @property
    def notes(self) -> list[str]:
        notes = []
        if self._estimated:
            rows = "1 credit row is" if self._estimated == 1 else f"{self._estimated} credit rows are"
            notes.append(f"{rows} on an estimated bill (not final yet): a later file for the month replaces them")
        return notes

    # What the columnar reader (formats.columnar) needs to read the same rows the same way.
    @property
    def roles(self) -> dict[str, tuple[int, ...]]:
        """Role -> the indexes of the columns that give it."""
        return dict(self._index)

    @property
    def width(self) -> int:
        return self._width

    @property
    def decimal_comma(self) -> bool:
        return self._amounts.decimal_comma

    @property
    def states_totals(self) -> bool:
        return self._ledger is not None

    @property
    def fixed_month(self) -> str:
        return self._fixed_month

    def read_row(self, line: int, cells: list[str]) -> CreditLine | SkippedRow | IgnoredRow:
        """One row as `rows` reads it (the columnar reader hands over the rows it cannot decide itself)."""
        return self._row(line, cells)

    def _amount_column(self, header: Header) -> str:
        column = header.names[self._index["amount"][0]]
        return f"{column} ({self.spec.amount_note})" if self.spec.amount_note else column

    def rows(self) -> Iterator[FormatRow]:
        prefilter = None
        # Types read by exact value only: a hand-made sheet's (a word, a blank type) are read row by row.
        if self.spec.credit_types and "row_type" in self._index and not self.spec.hand_made:
            keep = self.spec.credit_types | {type_ for type_, _ in self.spec.conditional_types} | set(self._total_rows)
            prefilter = Prefilter(self._index["row_type"][0], frozenset(keep))
        for item in self.source.rows(needed=self._needed, prefilter=prefilter):
            if isinstance(item, IgnoredRows):
                yield item
            elif isinstance(item, BadRow):
                yield SkippedRow(item.line, None, item.reason)
            else:
                outcome = self._row(item[0], item[1])
                if self._ledger is not None and isinstance(outcome, CreditLine):
                    self._ledger.credit(outcome, *self._scopes(outcome, item[1]))
                yield outcome
        if self._ledger is not None:
            yield from self._ledger.checks()

    def _scopes(self, credit: CreditLine, cells: list[str]) -> list[Scope]:
        if self.spec.hand_made:
            return [("account", credit.account_id)]  # an account's subtotal row (`111122223333 Total`)
        if not self._total_rows:
            return []
        return [("invoice", self._cell(cells, "invoice")), ("account", credit.account_id)]

    def _stated_total(
        self, line: int, cells: list[str], what: str, scope: TotalScope, account_text: str | None = None
    ) -> SkippedRow | IgnoredRow:
        """A total row: its amount is recorded for the check (a blank amount states nothing). `account_text`:
        the account an account's total names in its label, else its account cell's."""
        text = cells[self._index["amount"][0]]
        kind = "total row" if self.spec.hand_made else what
        if not clean_text(text):
            return IgnoredRow(line, kind)
        try:
            amount, _ = self._amounts.read(text)
        except InvalidAmount as error:
            return SkippedRow(line, None, f"{kind}: {error}")
        cost = amount if self.spec.sign == "signed" else amount.copy_abs().copy_negate()
        if self._ledger is None:  # only formats with totals have total rows
            return IgnoredRow(line, kind)
        target: Scope = FILE
        if scope == "invoice":
            invoice = self._cell(cells, "invoice")
            target, what = ("invoice", invoice), f"the {what} of invoice {invoice or '(blank)'}"
        elif scope == "account":
            try:
                account = self._accounts.read(account_text or self._account_cell(cells)).account_id
            except InvalidAccountId as error:
                return SkippedRow(line, None, f"{kind}: {error}")
            target, what = ("account", account), f"the {what} of account {account}"
        elif self.spec.hand_made:
            what = "the Total row"
            month_text = self._cell(cells, "month") if "month" in self._index else ""
            if month_text:
                try:
                    month = self._months.read(month_text)
                except InvalidMonth:
                    pass  # a label such as "all months": the total of the whole file
                else:
                    target, what = ("month", month), f"the Total row for {month}"
        else:
            what = f"the {what}"
        self._ledger.state(target, line, what, cost, summed=not self.spec.hand_made)
        return IgnoredRow(line, kind)

    def _cell(self, cells: list[str], role: str) -> str:
        indexes = self._index.get(role)
        if not indexes:
            return ""
        if len(indexes) == 1:
            return clean_text(cells[indexes[0]])
        for index in indexes:
            value = clean_text(cells[index])
            if value:
                return value
        return ""

    def _account_cell(self, cells: list[str]) -> str:
        """The account cell as written; with fallback columns, the first non-empty one."""
        indexes = self._index["account"]
        return cells[indexes[0]] if len(indexes) == 1 else self._cell(cells, "account")

    def _row(self, line: int, cells: list[str]) -> CreditLine | SkippedRow | IgnoredRow:
        spec = self.spec
        count = len(cells)
        if count != self._width:
            extra = count > self._width and any(cell.strip() for cell in cells[self._width :])
            if spec.strict_width or extra:
                return SkippedRow(line, None, f"row has {count} cells, the header has {self._width}")
            if count < self._width:
                cells = cells + [""] * (self._width - count)
        row_type = ""
        if spec.credit_types and "row_type" in self._index:
            row_type = cells[self._index["row_type"][0]].strip()
            total_scope = self._total_rows.get(row_type.casefold()) if self._total_rows else None
            if total_scope is not None:
                return self._stated_total(line, cells, row_type, total_scope)
            # A hand-made sheet's blank type (its total row, a row nobody typed) is read as its untyped rows are.
            if not (spec.hand_made and not row_type) and not self._is_credit(row_type, cells, line):
                return IgnoredRow(line, row_type)
        if spec.aws_provider_only and "provider" in self._index:
            provider = self._cell(cells, "provider")
            if provider and not _is_aws(provider):
                return IgnoredRow(line, f"non-AWS provider: {provider}")
        amount_text = cells[self._index["amount"][0]]
        if spec.credit_when_nonzero and _no_amount(amount_text):
            return IgnoredRow(line, "no credit on the line")
        if (
            self._no_own_account
            and row_type.casefold() not in self._fallback_types
            and not clean_text(cells[self._index["account"][0]])
        ):
            return SkippedRow(line, None, f"{row_type} {self._no_own_account}")
        account_text = self._cell(cells, "account")
        label = (
            total_label(account_text) or total_label_beside(cells, account_text, self._index["amount"][:1])
            if spec.hand_made
            else None
        )
        if label is not None:
            if label == "subtotal":
                return IgnoredRow(line, "subtotal row (not checked: its rows are not stated)")
            if (account := account_of_total(account_text)) is not None:
                return self._stated_total(line, cells, "Total row", "account", account_text=account)
            return self._stated_total(line, cells, "Total", "file")
        try:
            account_id, padded = self._accounts.read(self._account_cell(cells))
        except InvalidAccountId as error:
            return SkippedRow(line, account_text or None, str(error))
        if self._fixed_month:
            month = self._fixed_month
        else:
            try:
                month = self._months.read(cells[self._index["month"][0]])
            except InvalidMonth as error:
                return SkippedRow(line, account_id, str(error))
        try:
            amount, hinted_currency = self._amounts.read(amount_text)
        except InvalidAmount as error:
            return SkippedRow(line, account_id, str(error))
        currency = self._cell(cells, "currency").upper() or spec.fixed_currency
        if hinted_currency and currency and hinted_currency != currency:
            return SkippedRow(line, account_id, f"amount in {hinted_currency}, currency column says {currency}")
        currency = currency or hinted_currency
        if spec.one_sign_credits and row_type and amount:
            self._refuse_both_signs(line, amount)
        cost = amount if spec.sign == "signed" else amount.copy_abs().copy_negate()
        if "estimated" in self._index and self._cell(cells, "estimated").casefold() in _ESTIMATED:
            self._estimated += 1
        return CreditLine(
            line,
            account_id,
            month,
            cost if cost != 0 else Decimal(0),
            self._cell(cells, "description") or self.config.default_description,
            self._cell(cells, "service") or self.config.default_service,
            currency,
            padded=padded,
        )

    def _refuse_both_signs(self, line: int, amount: Decimal) -> None:
        negative = amount < 0
        self._first_of_sign.setdefault(negative, (line, amount))
        other = self._first_of_sign.get(not negative)
        if other is None:
            return
        (first, first_amount), (then, then_amount) = sorted((other, (line, amount)))
        raise FileRejected(
            f"the sheet's credit rows have both signs, line {first} ({first_amount}) and line {then} ({then_amount}): "
            "typed as AWS types them, a positive credit is a reversal, which a sheet's magnitudes would add as one "
            "more credit; write every credit as a positive amount (a reversal taken off its credit), or read the "
            'file with a column mapping with "sign": "signed" (setting ColumnMappingsUri)',
            line=line,
        )

    def _unclear_type(self, folded_type: str) -> bool:
        word = self.spec.unclear_type_word
        return bool(word) and any(found in (word, f"{word}s") for found in _TYPE_WORDS.findall(folded_type))

    def _is_credit(self, row_type: str, cells: list[str], line: int) -> bool:
        kind = self._type_kinds.get(row_type)
        if kind is None:
            folded = row_type.casefold()
            if folded in self.spec.credit_types:
                kind = "credit"
            elif any(folded == type_ for type_, _ in self.spec.conditional_types):
                kind = "conditional"
            elif self._unclear_type(folded):
                credit_types = " or ".join(sorted(type_.capitalize() for type_ in self.spec.credit_types))
                raise FileRejected(
                    f"row type {row_type!r} says credit but is not a credit type ({credit_types}): whether its rows "
                    f"are credits is not known; type the rows that are credits {credit_types}, give the others "
                    "another type, or read the file with a column mapping that lists its credit types (setting "
                    'ColumnMappingsUri, "row_type": {"column": ..., "credit_values": [...]})',
                    line=line,
                )
            else:
                kind = "other"
            if len(self._type_kinds) < 1000:
                self._type_kinds[row_type] = kind
        if kind == "credit":
            return True
        if kind == "other":
            return False
        description = self._cell(cells, "description").casefold()
        folded = row_type.casefold()
        return any(folded == type_ and marker in description for type_, marker in self.spec.conditional_types)


_TYPE_WORDS = re.compile(r"[^\W\d_]+")
_ZERO = re.compile(r"[-+]?0*(?:\.0*)?")


def _no_amount(text: str) -> bool:
    """A blank cell or a plain zero (`0`, `0.0`, `-0.000`): no credit on an invoice line."""
    stripped = text.strip()
    return not clean_text(stripped) or bool(_ZERO.fullmatch(stripped))


def _is_aws(provider: str) -> bool:
    key = header_key(provider)
    return key.startswith(("aws", "amazon"))
