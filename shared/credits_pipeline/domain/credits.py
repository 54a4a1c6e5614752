"""What a credit file means: its rows (credit lines, skipped and ignored rows) and its per-month credits.

Plain frozen dataclasses: a CUR file has millions of rows, and pydantic per row is too slow. A month of a
million accounts (the headerless file) is held as CreditColumns: text, not an object per account.
"""

from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow, localcontext
from itertools import islice
from operator import itemgetter
from typing import Literal

from credits_pipeline.domain.accounts import ACCOUNT_ID_DIGITS
from credits_pipeline.domain.money import format_money

SkipCategory = Literal["invalid", "zero", "duplicate", "unknown_account", "net_zero"]


@dataclass(frozen=True, slots=True)
class CreditLine:
    """One credit as the file states it. `cost` is CloudZero's signed cost: credits are negative."""

    line: int
    account_id: str
    month: str
    cost: Decimal
    description: str = ""
    service: str = ""
    currency: str = ""
    # The file wrote the account id with fewer than 12 digits: read as zero-padded.
    padded: bool = False


@dataclass(frozen=True, slots=True)
class SkippedRow:
    """A row that could have been a credit but is not sent, with the reason an operator reads."""

    line: int
    account_id: str | None
    reason: str
    # "invalid" rows count towards the share that rejects a file; the others are decisions.
    category: SkipCategory = "invalid"


@dataclass(frozen=True, slots=True)
class IgnoredRow:
    """A row of another type (usage, tax, ...) in a format that mixes row types."""

    line: int
    row_type: str


RowOutcome = CreditLine | SkippedRow | IgnoredRow


# Sums are exact: far more digits than any amount a format accepts, and rounding is an error.
EXACT = Context(prec=200, traps=[Inexact, InvalidOperation, Overflow])


def exact_sum(values: Iterable[Decimal]) -> Decimal:
    with localcontext(EXACT):
        return sum(values, Decimal(0))


@dataclass(frozen=True, slots=True)
class AccountCredit:
    """One account's credit for one month (and service/description where the format has them)."""

    account_id: str
    month: str
    cost: Decimal
    description: str
    service: str
    # The first source lines summed into this credit (at most `max_lines_per_credit`).
    lines: tuple[int, ...]
    # How many rows were summed into it (can exceed len(lines)).
    rows: int = 0


SEPARATOR = ":"  # between the account and the magnitude in a CreditColumns text
ACCOUNT = itemgetter(slice(ACCOUNT_ID_DIGITS))  # of a CreditColumns text: the account id
MAGNITUDE = itemgetter(slice(ACCOUNT_ID_DIGITS + len(SEPARATOR), None))  # and the cost's magnitude


class CreditColumns:
    """Many credits of one month, description and service as text, without an object per credit.

    `texts[i]` is an account's 12 digits, `:` and its credit's magnitude as a plain decimal
    (`073933415963:6407.96` is account 073933415963 with a cost of -6407.96: every cost is negative,
    never zero); the texts are sorted, so by account, and each account appears once. A headerless file
    of a million accounts is a million short strings here, where AccountCredits would be a million objects;
    `cbf.prepare_bodies` writes the bodies from the texts with a few string operations per chunk.
    """

    def __init__(self, month: str, description: str, service: str, texts: list[str], lines: Sequence[int]) -> None:
        """`texts` in the order the file gives them, `lines[i]` the source line of `texts[i]`."""
        if len(texts) != len(lines):
            raise ValueError("a credit text per line")
        self.month, self.description, self.service = month, description, service
        self._in_file_order = texts
        self._lines = array("l", lines)
        self.texts = sorted(texts)
        self._total: Decimal | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def accounts(self, start: int = 0) -> Iterator[str]:
        return map(ACCOUNT, islice(self.texts, start, None))

    def repeated(self) -> set[str]:
        """The accounts held more than once (which a reader must not give): repeats are neighbours."""
        keys = map(itemgetter(slice(ACCOUNT_ID_DIGITS + len(SEPARATOR))), self.texts)
        if not any(map(str.startswith, islice(self.texts, 1, None), keys)):
            return set()
        pairs = zip(self.accounts(), self.accounts(1), strict=False)
        return {account for account, following in pairs if account == following}

    @staticmethod
    def total_of(texts: Iterable[str]) -> Decimal:
        """The exact sum of the costs of `texts`."""
        return exact_sum(map(Decimal, map(MAGNITUDE, texts))).copy_negate()

    @property
    def total(self) -> Decimal:
        if self._total is None:
            self._total = self.total_of(self.texts)
        return self._total

    @total.setter
    def total(self, total: Decimal) -> None:
        """The total as the caller summed it from all the texts (e.g. chunk by chunk)."""
        self._total = total

    def credits(self) -> list[AccountCredit]:
        """Each credit as an AccountCredit, in account order (for the preview and the tests: a million objects
        at a million accounts, which is why they are not held)."""
        line_of = dict(zip(self._in_file_order, self._lines, strict=True))
        return [
            AccountCredit(
                ACCOUNT(text),
                self.month,
                Decimal(MAGNITUDE(text)).copy_negate(),
                self.description,
                self.service,
                (line_of[text],),
                1,
            )
            for text in self.texts
        ]

    def fits(self, credit: AccountCredit) -> bool:
        """Whether `credit` can be held here: same month, description and service, negative, written as a plain
        decimal without losing its exponent (`-1E+2` is not `-100` to the digit), one line."""
        return (
            (credit.month, credit.description, credit.service) == (self.month, self.description, self.service)
            and credit.cost < 0
            and _plain_exponent(credit.cost)
            and len(credit.lines) == 1
            and credit.rows == 1
            and len(credit.account_id) == ACCOUNT_ID_DIGITS
            and credit.account_id.isascii()
            and credit.account_id.isdigit()
        )

    def add(self, credits: Sequence[AccountCredit]) -> None:
        """Hold `credits` too (each `fits`, and of an account not held yet)."""
        added = [f"{credit.account_id}{SEPARATOR}{format_money(credit.cost.copy_negate())}" for credit in credits]
        self._in_file_order = [*self._in_file_order, *added]
        self._lines.extend(credit.lines[0] for credit in credits)
        self.texts.extend(added)
        self.texts.sort()  # two sorted runs: merged in one pass
        self._total = None


def _plain_exponent(value: Decimal) -> bool:
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and exponent <= 0


class MonthCredits:
    """A month's credits, in (account, service, description) order: AccountCredit objects, or CreditColumns
    (and the few credits that do not fit them) when a file gives so many that objects would not fit in memory.
    """

    def __init__(self, month: str, credits: list[AccountCredit] | None = None, columns: CreditColumns | None = None):
        self.month = month
        self._credits = credits if credits is not None else []
        self.columns = columns

    @property
    def credits(self) -> list[AccountCredit]:
        """Every credit as an object (built from the columns, if any, on each call)."""
        if self.columns is None:
            return self._credits
        return sorted([*self.columns.credits(), *self._credits], key=lambda c: (c.account_id, c.service, c.description))

    @property
    def to_send(self) -> "CreditColumns | list[AccountCredit]":
        """What `cbf.prepare_bodies` writes the month's bodies from: the columns alone when they hold it all."""
        if self.columns is not None and not self._credits:
            return self.columns
        return self.credits

    @property
    def total(self) -> Decimal:
        objects = exact_sum(credit.cost for credit in self._credits)
        if self.columns is None:
            return objects
        with localcontext(EXACT):
            return self.columns.total + objects

    @property
    def rows(self) -> int:
        """CBF rows the month sends: one per credit (an account can have several services)."""
        return len(self._credits) + (len(self.columns) if self.columns is not None else 0)

    @property
    def accounts(self) -> int:
        accounts = {credit.account_id for credit in self._credits}
        return len(accounts) + (len(self.columns) if self.columns is not None else 0)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MonthCredits):
            return NotImplemented
        return (self.month, self.credits) == (other.month, other.credits)

    def __repr__(self) -> str:
        held = f"{len(self.columns)} in columns, " if self.columns is not None else ""
        return f"MonthCredits({self.month!r}, {held}{len(self._credits)} objects)"


@dataclass
class CreditFile:
    """What a file means for CloudZero: the months to push and everything left out, with reasons."""

    format_id: str
    months: dict[str, MonthCredits]
    skipped: list[SkippedRow]
    skipped_total: int
    # Skipped rows counted by category (invalid, zero, duplicate, unknown_account, net_zero).
    skipped_by_reason: dict[str, int]
    credit_rows: int
    ignored_rows: int
    ignored_by_type: dict[str, int] = field(default_factory=dict)
    currency: str = ""
    # How the file was read, for the report and the preview.
    format_title: str = ""
    layout: str = ""
    amount_column: str = ""
    columns: dict[str, str] = field(default_factory=dict)
    sign_rule: str = ""
    month_source: str = ""
    line_unit: str = "line"
    header_line: int = 0
    currencies: dict[str, int] = field(default_factory=dict)
    # What the operator should know that is not a skipped row (estimated bills, ...).
    notes: list[str] = field(default_factory=list)
    # Credit rows whose account id was padded to 12 digits: (line, id as read), the first ones, and a count.
    padded_ids: list[tuple[int, str]] = field(default_factory=list)
    padded_total: int = 0

    @property
    def total(self) -> Decimal:
        return exact_sum(month.total for month in self.months.values())


def merge_parts(parts: list[tuple[str, CreditFile]], max_lines: int = 100, skipped_limit: int = 500) -> CreditFile:
    """The credit files of one export's parts as one: credits summed per month, account, service and
    description (exactly), skipped rows kept with the part they came from (line numbers are per part)."""
    if not parts:
        raise ValueError("an export needs at least one part")
    formats = sorted({part.format_id for _, part in parts})
    if len(formats) > 1:
        raise ValueError(f"the parts are of different formats: {', '.join(formats)}")
    first = parts[0][1]
    sums: dict[tuple[str, str, str, str], AccountCredit] = {}
    skipped: list[SkippedRow] = []
    merged = CreditFile(
        format_id=first.format_id,
        months={},
        skipped=skipped,
        skipped_total=0,
        skipped_by_reason={},
        credit_rows=0,
        ignored_rows=0,
        currency=first.currency,
        format_title=first.format_title,
        layout=f"{len(parts)} parts of one export > {first.layout}",
        amount_column=first.amount_column,
        columns=dict(first.columns),
        sign_rule=first.sign_rule,
        month_source=first.month_source,
        line_unit=first.line_unit,
    )
    with localcontext(EXACT):
        for name, part in parts:
            for month_credits in part.months.values():
                for credit in month_credits.credits:
                    key = (credit.month, credit.account_id, credit.service, credit.description)
                    known = sums.get(key)
                    sums[key] = (
                        credit
                        if known is None
                        else AccountCredit(
                            credit.account_id,
                            credit.month,
                            known.cost + credit.cost,
                            credit.description,
                            credit.service,
                            (known.lines + credit.lines)[:max_lines],
                            known.rows + credit.rows,
                        )
                    )
            for row in part.skipped:
                if len(skipped) < skipped_limit:
                    skipped.append(SkippedRow(row.line, row.account_id, f"{name}: {row.reason}", row.category))
            merged.skipped_total += part.skipped_total
            for reason, count in part.skipped_by_reason.items():
                merged.skipped_by_reason[reason] = merged.skipped_by_reason.get(reason, 0) + count
            merged.credit_rows += part.credit_rows
            merged.ignored_rows += part.ignored_rows
            for row_type, count in part.ignored_by_type.items():
                merged.ignored_by_type[row_type] = merged.ignored_by_type.get(row_type, 0) + count
            for currency, count in part.currencies.items():
                merged.currencies[currency] = merged.currencies.get(currency, 0) + count
            merged.padded_ids.extend(part.padded_ids[: max(0, skipped_limit - len(merged.padded_ids))])
            merged.padded_total += part.padded_total
            merged.notes.extend(f"{name}: {note}" for note in part.notes)
    by_month: dict[str, list[AccountCredit]] = {}
    for credit in sums.values():
        if credit.cost != 0:  # credits that cancel out across parts send nothing for that account
            by_month.setdefault(credit.month, []).append(credit)
    merged.months = {month: MonthCredits(month, by_month[month]) for month in sorted(by_month)}
    return merged
