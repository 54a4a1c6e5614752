"""What a credit file's rows become: credit lines, skipped rows and ignored rows.

Plain frozen dataclasses: a CUR file has millions of rows, and pydantic per row is too slow.
"""

from dataclasses import dataclass
from decimal import Decimal
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
