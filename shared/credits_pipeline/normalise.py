"""Row outcomes -> per-account, per-month credits, with every skip and rejection decided here.

Pure: the splitter and the preview command both call `normalise`, so they decide alike.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from credits_pipeline.credit_line import IgnoredRow, RowOutcome, SkippedRow
from credits_pipeline.formats.base import DuplicatePolicy, FileRejected, ParseConfig
from credits_pipeline.money import format_money

PROBLEMS_LISTED = 20


@dataclass(frozen=True, slots=True)
class AccountCredit:
    """One account's credit for one month (and service/description where the format has them)."""

    account_id: str
    month: str
    cost: Decimal
    description: str
    service: str
    lines: tuple[int, ...]


@dataclass
class MonthCredits:
    month: str
    credits: list[AccountCredit]

    @property
    def total(self) -> Decimal:
        return sum((credit.cost for credit in self.credits), Decimal(0))

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
    skipped_by_reason: dict[str, int]
    credit_rows: int
    ignored_rows: int
    ignored_by_type: dict[str, int] = field(default_factory=dict)
    currency: str = ""

    @property
    def total(self) -> Decimal:
        return sum((month.total for month in self.months.values()), Decimal(0))


_Key = tuple[str, str, str, str]  # month, account, service, description


def normalise(
    format_id: str,
    duplicate_policy: DuplicatePolicy,
    rows: Iterable[RowOutcome],
    config: ParseConfig,
) -> CreditFile:
    """Combine a format's rows into month credits; raise FileRejected when the file must not be sent."""
    sums: dict[_Key, Decimal] = {}
    first_line: dict[_Key, int] = {}
    lines: dict[_Key, list[int]] = {}
    skipped: list[SkippedRow] = []
    skipped_by_reason: Counter[str] = Counter()
    skipped_total = 0
    invalid = 0
    credit_rows = 0
    ignored: Counter[str] = Counter()
    currencies: Counter[str] = Counter()
    problems: list[str] = []

    def skip(row: SkippedRow) -> None:
        nonlocal skipped_total, invalid
        skipped_total += 1
        skipped_by_reason[row.category] += 1
        if row.category == "invalid":
            invalid += 1
            if len(problems) < PROBLEMS_LISTED:
                problems.append(f"line {row.line}: {row.reason}")
        if len(skipped) < config.skipped_detail_limit:
            skipped.append(row)

    for row in rows:
        if isinstance(row, IgnoredRow):
            ignored[row.row_type or "(blank)"] += 1
            continue
        if isinstance(row, SkippedRow):
            skip(row)
            continue
        credit_rows += 1
        if row.currency:
            currencies[row.currency] += 1
        if row.cost == 0:
            skip(SkippedRow(row.line, row.account_id, "zero amount", "zero"))
            continue
        if config.known_accounts is not None and row.account_id not in config.known_accounts:
            skip(SkippedRow(row.line, row.account_id, "unknown account", "unknown_account"))
            continue
        key: _Key = (row.month, row.account_id, row.service, row.description)
        if key not in sums:
            sums[key], first_line[key], lines[key] = row.cost, row.line, [row.line]
            continue
        if duplicate_policy == "sum":
            sums[key] += row.cost
            lines[key].append(row.line)
        elif sums[key] == row.cost:
            skip(SkippedRow(row.line, row.account_id, f"duplicate of line {first_line[key]}", "duplicate"))
        else:
            raise FileRejected(
                f"account {row.account_id} has different amounts for {row.month}: line {first_line[key]} "
                f"gives {format_money(sums[key])}, line {row.line} gives {format_money(row.cost)}",
                line=row.line,
            )

    _check_currencies(currencies, config)
    considered = credit_rows + invalid
    if considered == 0:
        raise FileRejected("no credit rows found", problems=problems)
    if invalid and Decimal(invalid) / Decimal(considered) > config.max_invalid_share:
        raise FileRejected(
            f"{invalid} of {considered} credit rows are invalid, more than the "
            f"{config.max_invalid_share:%} allowed: the file looks structurally wrong",
            problems=problems,
        )

    months: dict[str, MonthCredits] = {}
    for key, cost in sums.items():
        month, account_id, service, description = key
        if cost == 0:
            skip(SkippedRow(first_line[key], account_id, f"credits for {month} net to zero", "net_zero"))
            continue
        credit = AccountCredit(account_id, month, cost, description, service, tuple(lines[key]))
        months.setdefault(month, MonthCredits(month, [])).credits.append(credit)
    if not months:
        raise FileRejected("no valid credit row: every row was skipped", problems=problems)
    for month_credits in months.values():
        month_credits.credits.sort(key=lambda c: (c.account_id, c.service, c.description))

    return CreditFile(
        format_id=format_id,
        months=dict(sorted(months.items())),
        skipped=skipped,
        skipped_total=skipped_total,
        skipped_by_reason=dict(skipped_by_reason),
        credit_rows=credit_rows,
        ignored_rows=sum(ignored.values()),
        ignored_by_type=dict(ignored),
        currency=next(iter(currencies), ""),
    )


def _check_currencies(currencies: Counter[str], config: ParseConfig) -> None:
    unknown = sorted(set(currencies) - config.currencies)
    if unknown:
        raise FileRejected(
            f"currency {', '.join(unknown)} is not configured (accepted: {', '.join(sorted(config.currencies))})"
        )
