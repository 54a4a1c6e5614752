"""Does CloudZero hold what was sent? A month read back, compared row count, per account and in total.

In memory that stays the same whatever the month's size (a month can hold a million accounts):
1. each side is read once into a digest of `BUCKETS` account groups (an account's group comes from its
   id): per group the rows, their exact total and an order-independent hash of its (account, cost) rows;
2. only the groups whose digests differ are read again, from both sides, account by account, to name
   the accounts whose rows differ: their count, their total or their costs (an account of several rows,
   one per service, can keep its total with a credit lost and another doubled). Those groups are re-read
   up to `RECHECK_ROWS` rows (both sides together): a month that differs nearly everywhere names and
   counts the accounts in the groups that fit, says how many groups it did not compare, and is never
   called a match.

A cost is hashed by its value, not its spelling: CloudZero answering "-100" for a "-100.00" sent is the
same credit. A held cost that is not a number, or beyond what an exact sum holds (no credit sent is), is
NaN: it differs from everything sent.
"""

import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from hashlib import blake2s

from credits_pipeline.domain.credits import EXACT, exact_sum
from credits_pipeline.domain.money import format_money

DIFFERENCES_LISTED = 20
ZERO = Decimal(0)
NOT_A_NUMBER = Decimal("NaN")  # a cost CloudZero holds that is not a number: equal to nothing sent
# A held cost with more integer or decimal digits than this is not a credit the pipeline sent (those are
# below 1e30 and 40 decimals) and is read as NaN: summing it exactly could need more than EXACT's digits.
HELD_DIGITS = 90
BUCKETS = 4096  # a power of two: an account's group is the low bits of its id's CRC-32
# At most this many rows (sent and held) are read again account by account; each becomes at most one
# account's running rows, total and hash (about 350 bytes): about 17 MiB.
RECHECK_ROWS = 50_000

# (account, cost) per row, read afresh from its first row at each call.
Costs = Callable[[], Iterable[tuple[str, Decimal]]]
# CloudZero's CBF rows for the month, read afresh from its first row at each call.
HeldRows = Callable[[], Iterable[Mapping[str, object]]]


@dataclass(frozen=True)
class AccountDifference:
    account_id: str
    sent: Decimal
    held: Decimal  # NaN: CloudZero holds a cost that is not a number

    def shown(self) -> str:
        same_total = " (the same total in other rows)" if self.sent == self.held else ""
        return f"{self.account_id}: sent {_money(self.sent)}, held {_money(self.held)}{same_total}"


@dataclass(frozen=True)
class MonthCheck:
    rows_sent: int
    rows_held: int
    total_sent: Decimal
    total_held: Decimal
    # The first accounts whose totals differ (sent vs held); `differences_total` counts all that were compared.
    differences: list[AccountDifference] = field(default_factory=list)
    differences_total: int = 0
    # Account groups that differ but were not compared account by account (more than RECHECK_ROWS rows differ):
    # their accounts are not in `differences_total`.
    groups_not_compared: int = 0

    @property
    def matches(self) -> bool:
        return (
            self.rows_sent == self.rows_held
            and self.total_sent == self.total_held
            and not self.differences_total
            and not self.groups_not_compared
        )

    def summary(self) -> str:
        if self.matches:
            return f"CloudZero holds the {self.rows_held} rows sent, totalling {format_money(self.total_held)}"
        at_least = "at least " if self.groups_not_compared else ""
        shown = "; ".join(difference.shown() for difference in self.differences[:5])
        held = _money(self.total_held, "nothing readable (a cost is not a number)")
        return (
            f"CloudZero holds {self.rows_held} rows totalling {held}; "
            f"{self.rows_sent} rows totalling {format_money(self.total_sent)} were sent"
            + (f"; {at_least}{self.differences_total} accounts differ ({shown})" if self.differences_total else "")
            + (
                f"; {self.groups_not_compared} of the month's {BUCKETS} account groups differ and were not "
                "compared account by account"
                if self.groups_not_compared
                else ""
            )
        )


def bucket_of(account: str) -> int:
    """The account's group: the same on both sides whatever its cost."""
    return zlib.crc32(account.encode()) & (BUCKETS - 1)


@dataclass
class MonthDigest:
    """One side of a month in `BUCKETS` groups: rows, exact total and a sum of row hashes per group."""

    rows: list[int] = field(default_factory=lambda: [0] * BUCKETS)
    totals: list[Decimal] = field(default_factory=lambda: [ZERO] * BUCKETS)
    hashes: list[int] = field(default_factory=lambda: [0] * BUCKETS)

    @classmethod
    def of(cls, costs: Iterable[tuple[str, Decimal]]) -> "MonthDigest":
        digest = cls()
        rows, totals, hashes, add = digest.rows, digest.totals, digest.hashes, EXACT.add
        for account, cost in costs:
            bucket = bucket_of(account)
            rows[bucket] += 1
            totals[bucket] = add(totals[bucket], cost)
            # A sum does not care in which order the rows come; Python's ints grow, no overflow to guard.
            hashes[bucket] += _row_hash(account, cost)
        return digest

    @property
    def total_rows(self) -> int:
        return sum(self.rows)

    @property
    def total(self) -> Decimal:
        return exact_sum(self.totals)

    def differing(self, other: "MonthDigest") -> list[int]:
        """The groups whose rows, totals or row hashes differ, in order."""
        return [
            bucket
            for bucket in range(BUCKETS)
            if self.rows[bucket] != other.rows[bucket]
            or self.totals[bucket] != other.totals[bucket]  # a held NaN differs from everything
            or self.hashes[bucket] != other.hashes[bucket]
        ]


def held_costs(rows: Iterable[Mapping[str, object]]) -> Iterator[tuple[str, Decimal]]:
    """(account, cost) of each CBF row CloudZero holds; a cost that is not a number is NaN."""
    for row in rows:
        yield str(row.get("resource/account", "")), _held_cost(row.get("cost/cost", ""))


def compare_month(sent: Costs, held: HeldRows, *, recheck_rows: int = RECHECK_ROWS) -> MonthCheck:
    """`sent`: (account, cost) per CBF row sent; `held`: the CBF rows CloudZero returns for the month.

    Each is read once, and once more only when some account groups differ (then only those groups'
    rows are kept, up to `recheck_rows`). Nothing the size of the month is held.
    """
    sent_digest = MonthDigest.of(sent())
    held_digest = MonthDigest.of(held_costs(held()))
    check = MonthCheck(
        rows_sent=sent_digest.total_rows,
        rows_held=held_digest.total_rows,
        total_sent=sent_digest.total,
        total_held=held_digest.total,
    )
    differing = sent_digest.differing(held_digest)
    if not differing:
        return check
    compared = _within_budget(differing, sent_digest, held_digest, recheck_rows)
    sent_accounts = _account_rows(sent(), compared)
    held_accounts = _account_rows(held_costs(held()), compared)
    accounts = sorted(
        account
        for account in sent_accounts.keys() | held_accounts.keys()
        if not _same(sent_accounts.get(account), held_accounts.get(account))
    )
    return MonthCheck(
        rows_sent=check.rows_sent,
        rows_held=check.rows_held,
        total_sent=check.total_sent,
        total_held=check.total_held,
        differences=[
            AccountDifference(a, _total(sent_accounts.get(a)), _total(held_accounts.get(a)))
            for a in accounts[:DIFFERENCES_LISTED]
        ],
        differences_total=len(accounts),
        groups_not_compared=len(differing) - len(compared),
    )


def _within_budget(differing: list[int], sent: MonthDigest, held: MonthDigest, budget: int) -> frozenset[int]:
    """The differing groups, in order, whose rows fit in `budget` (a group's rows bound its accounts)."""
    chosen, rows = [], 0
    for bucket in differing:
        size = sent.rows[bucket] + held.rows[bucket]
        if rows + size <= budget:
            chosen.append(bucket)
            rows += size
    return frozenset(chosen)


@dataclass
class _AccountRows:
    """One account's rows on one side: how many, their exact total and the sum of their row hashes."""

    rows: int = 0
    total: Decimal = ZERO
    hashes: int = 0


def _same(sent: _AccountRows | None, held: _AccountRows | None) -> bool:
    """Both sides hold the account's rows alike; NaN (a held cost that is not a number) equals nothing."""
    if sent is None or held is None:
        return sent is held
    return (sent.rows, sent.hashes) == (held.rows, held.hashes) and not held.total.is_nan() and sent.total == held.total


def _account_rows(costs: Iterable[tuple[str, Decimal]], buckets: frozenset[int]) -> dict[str, _AccountRows]:
    accounts: dict[str, _AccountRows] = {}
    for account, cost in costs:
        if bucket_of(account) in buckets:
            rows = accounts.get(account)
            if rows is None:
                rows = accounts[account] = _AccountRows()
            rows.rows += 1
            rows.total = EXACT.add(rows.total, cost)
            rows.hashes += _row_hash(account, cost)
    return accounts


def _total(rows: _AccountRows | None) -> Decimal:
    return rows.total if rows is not None else ZERO


def _money(value: Decimal, not_a_number: str = "a cost that is not a number") -> str:
    return not_a_number if value.is_nan() else format_money(value)


def _held_cost(value: object) -> Decimal:
    try:
        cost = Decimal(str(value))
    except InvalidOperation:
        return NOT_A_NUMBER
    if not cost.is_finite() or abs(cost.adjusted()) > HELD_DIGITS or int(cost.as_tuple().exponent) < -HELD_DIGITS:
        return NOT_A_NUMBER
    return cost


def _row_hash(account: str, cost: Decimal) -> int:
    """A 256-bit hash of the row's account and its cost's value (equal values spelled apart hash alike)."""
    value = "NaN" if cost.is_nan() else "0" if not cost else str(cost.normalize(EXACT))
    return int.from_bytes(blake2s(f"{account}\x1f{value}".encode()).digest())
