"""What a generated file must read as: a benchmark or test of a wrong answer measures nothing."""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class MonthExpected:
    accounts: int  # distinct accounts with a credit in the month (what a month message counts)
    total: Decimal  # signed as CloudZero gets it: credits negative


@dataclass(frozen=True)
class Expected:
    format_id: str
    credit_rows: int
    ignored_rows: int
    months: dict[str, MonthExpected] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return sum((month.total for month in self.months.values()), Decimal(0))

    @property
    def accounts(self) -> int:
        return sum(month.accounts for month in self.months.values())


class CreditTally:
    """Credits summed as the pipeline sums them: per month, account, service and description.

    A (month, account, service, description) whose credits net to zero is not sent.
    """

    def __init__(self) -> None:
        self._sums: dict[tuple[str, str, str, str], Decimal] = defaultdict(Decimal)
        self.credit_rows = 0
        self.ignored_rows = 0

    def credit(self, month: str, account: str, service: str, description: str, cost: Decimal) -> None:
        self.credit_rows += 1
        self._sums[month, account, service, description] += cost

    def ignored(self) -> None:
        self.ignored_rows += 1

    def expected(self, format_id: str) -> Expected:
        accounts: dict[str, set[str]] = defaultdict(set)
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for (month, account, _, _), cost in self._sums.items():
            if cost:
                accounts[month].add(account)
                totals[month] += cost
        months = {month: MonthExpected(len(accounts[month]), totals[month]) for month in sorted(accounts)}
        return Expected(format_id, self.credit_rows, self.ignored_rows, months)
