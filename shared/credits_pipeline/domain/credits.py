"""What a credit file means: its rows (credit lines, skipped and ignored rows) and its per-month credits.

Plain frozen dataclasses: a CUR file has millions of rows, and pydantic per row is too slow.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow, localcontext
from typing import Literal

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


@dataclass
class MonthCredits:
    month: str
    credits: list[AccountCredit]

    @property
    def total(self) -> Decimal:
        return exact_sum(credit.cost for credit in self.credits)

    @property
    def accounts(self) -> int:
        return len({credit.account_id for credit in self.credits})


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
