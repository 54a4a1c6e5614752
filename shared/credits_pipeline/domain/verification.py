"""Does CloudZero hold what was sent? A month read back, compared row count, per account and in total."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from credits_pipeline.domain.credits import EXACT, exact_sum
from credits_pipeline.domain.money import format_money

DIFFERENCES_LISTED = 20
ZERO = Decimal(0)


@dataclass(frozen=True)
class AccountDifference:
    account_id: str
    sent: Decimal
    held: Decimal


@dataclass(frozen=True)
class MonthCheck:
    rows_sent: int
    rows_held: int
    total_sent: Decimal
    total_held: Decimal
    # The first accounts whose totals differ (sent vs held); `differences_total` counts all.
    differences: list[AccountDifference] = field(default_factory=list)
    differences_total: int = 0

    @property
    def matches(self) -> bool:
        return self.rows_sent == self.rows_held and self.total_sent == self.total_held and not self.differences_total

    def summary(self) -> str:
        if self.matches:
            return f"CloudZero holds the {self.rows_held} rows sent, totalling {format_money(self.total_held)}"
        shown = "; ".join(
            f"{d.account_id}: sent {format_money(d.sent)}, held {format_money(d.held)}" for d in self.differences[:5]
        )
        return (
            f"CloudZero holds {self.rows_held} rows totalling {format_money(self.total_held)}; "
            f"{self.rows_sent} rows totalling {format_money(self.total_sent)} were sent"
            + (f"; {self.differences_total} accounts differ ({shown})" if self.differences_total else "")
        )


def compare_month(sent: Iterable[tuple[str, Decimal]], held_rows: Iterable[Mapping[str, str]]) -> MonthCheck:
    """`sent`: (account, cost) per credit sent; `held_rows`: the CBF rows CloudZero returns for the month.

    Both are consumed once, as they come: only a running total per account is kept.
    """
    sent_totals: dict[str, Decimal] = {}
    rows_sent = 0
    for account, cost in sent:
        sent_totals[account] = EXACT.add(sent_totals.get(account, ZERO), cost)
        rows_sent += 1
    held_totals: dict[str, Decimal] = {}
    rows_held = 0
    for row in held_rows:
        rows_held += 1
        try:
            cost = Decimal(str(row.get("cost/cost", "")))
        except InvalidOperation:
            cost = Decimal("NaN")
        account = str(row.get("resource/account", ""))
        held_totals[account] = EXACT.add(held_totals.get(account, ZERO), cost)
    differing = sorted(
        account
        for account in sent_totals.keys() | held_totals.keys()
        if sent_totals.get(account, Decimal(0)) != held_totals.get(account, Decimal(0))
        or (account in sent_totals) != (account in held_totals)
    )
    return MonthCheck(
        rows_sent=rows_sent,
        rows_held=rows_held,
        total_sent=exact_sum(sent_totals.values()),
        total_held=exact_sum(held_totals.values()),
        differences=[
            AccountDifference(a, sent_totals.get(a, Decimal(0)), held_totals.get(a, Decimal(0)))
            for a in differing[:DIFFERENCES_LISTED]
        ],
        differences_total=len(differing),
    )
