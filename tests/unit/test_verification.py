"""Reading a month back: the compare names exactly the accounts whose rows differ, whatever the month's size.

The oracle is the plain compare (every account's rows on each side, in dictionaries): the bounded one
must say the same, account for account.
"""

import itertools
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from credits_pipeline.domain.money import format_money
from credits_pipeline.domain.verification import DIFFERENCES_LISTED, bucket_of, compare_month

Sent = list[tuple[str, Decimal]]
Held = list[dict[str, str]]


def _sharing_a_group(count: int) -> list[str]:
    """Account ids that fall into the same account group as 000000000000: a group holding several accounts."""
    first = bucket_of("000000000000")
    return [account for n in range(10_000_000) if bucket_of(account := f"{n:012d}") == first][:count]


CROWDED = _sharing_a_group(6)
ACCOUNTS = [*CROWDED, *(f"{n:012d}" for n in range(1, 13))]


def plain_differences(sent: Sent, held: Held) -> list[str]:
    """The accounts whose rows differ (as values: `-100` is `-100.00`), the straightforward way (everything
    in memory)."""
    sent_rows: dict[str, Counter[Decimal]] = defaultdict(Counter)
    held_rows: dict[str, Counter[Decimal]] = defaultdict(Counter)
    for account, cost in sent:
        sent_rows[account][cost] += 1
    for row in held:
        held_rows[row["resource/account"]][Decimal(row["cost/cost"])] += 1
    return sorted(
        account for account in sent_rows.keys() | held_rows.keys() if sent_rows[account] != held_rows[account]
    )


class Reads[Row]:
    """A side that can be read from its first row again; counts the reads."""

    def __init__(self, rows: Iterable[Row]) -> None:
        self.rows = list(rows)
        self.count = 0

    def __call__(self) -> Iterator[Row]:
        self.count += 1
        return iter(self.rows)


def cbf(account: str, cost: str) -> dict[str, str]:
    return {"lineitem/type": "Credit", "resource/account": account, "cost/cost": cost}


def held_as_sent(sent: Sent) -> Held:
    return [cbf(account, format_money(cost)) for account, cost in sent]


costs = st.decimals(min_value=Decimal("-99999.99"), max_value=Decimal("0"), places=2)
months = st.dictionaries(st.sampled_from(ACCOUNTS), costs, min_size=1).map(lambda credits: list(credits.items()))


@st.composite
def read_backs(draw: st.DrawFn) -> tuple[Sent, Held]:
    """A month sent (one row per account) and what CloudZero holds: rows dropped, doubled, changed,
    added, respelled and reordered."""
    sent = draw(months)
    held = held_as_sent(sent)
    for index in draw(st.lists(st.integers(0, len(held) - 1), max_size=3, unique=True)):
        change = draw(st.sampled_from(["drop", "double", "cost", "respell"]))
        account, cost = held[index]["resource/account"], held[index]["cost/cost"]
        if change == "double":
            held.append(cbf(account, cost))
        elif change == "cost":
            off_by = draw(st.sampled_from([Decimal("0.01"), Decimal(1)]))
            held[index] = cbf(account, format_money(Decimal(cost) - off_by))
        elif change == "respell":  # the same value written otherwise: not a difference
            held[index] = cbf(account, format(Decimal(cost).normalize(), "f") if Decimal(cost) else "-0.000")
        else:
            held[index] = {}
    for account in draw(st.lists(st.sampled_from(ACCOUNTS), max_size=2)):
        held.append(cbf(account, format_money(draw(costs))))
    held = [row for row in held if row]
    random.Random(draw(st.integers())).shuffle(held)
    return sent, held


@settings(max_examples=300, deadline=None)
@given(read_backs())
def test_the_compare_names_exactly_the_accounts_whose_rows_differ(read_back: tuple[Sent, Held]) -> None:
    sent, held = read_back
    wanted = plain_differences(sent, held)

    check = compare_month(Reads(sent), Reads(held))

    assert [d.account_id for d in check.differences] == wanted[:DIFFERENCES_LISTED]
    assert check.differences_total == len(wanted)
    assert check.rows_sent == len(sent) and check.rows_held == len(held)
    assert check.total_held == sum((Decimal(row["cost/cost"]) for row in held), Decimal(0))
    assert check.matches == (not wanted and len(sent) == len(held))
    for difference in check.differences:
        assert difference.sent == sum((cost for account, cost in sent if account == difference.account_id), Decimal(0))


@settings(max_examples=100, deadline=None)
@given(months)
def test_a_month_held_as_sent_in_any_order_and_spelling_matches_reading_each_side_once(sent: Sent) -> None:
    held = [cbf(account, format(cost.normalize(), "f")) for account, cost in reversed(sent)]
    sent_reads, held_reads = Reads(sent), Reads(held)

    check = compare_month(sent_reads, held_reads)

    assert check.matches, check.summary()
    assert check.summary().startswith(f"CloudZero holds the {len(sent)} rows sent")
    assert (sent_reads.count, held_reads.count) == (1, 1)  # nothing read again: the month was not re-requested


def test_two_accounts_of_one_group_with_their_costs_swapped_are_both_named() -> None:
    first, second = CROWDED[:2]
    sent = [(first, Decimal("-1.00")), (second, Decimal("-2.00"))]
    held = [cbf(first, "-2.00"), cbf(second, "-1.00")]  # same rows, same total, in one group

    check = compare_month(Reads(sent), Reads(held))

    assert not check.matches
    assert [(d.account_id, d.sent, d.held) for d in check.differences] == [
        (first, Decimal("-1.00"), Decimal("-2.00")),
        (second, Decimal("-2.00"), Decimal("-1.00")),
    ]


def test_an_account_whose_rows_differ_with_the_same_total_is_named_and_never_a_match() -> None:
    account = "073933415963"
    cases = {
        "two services' credits altered": (["-100.00", "-50.00"], ["-120.00", "-30.00"]),
        "a credit lost, another doubled": (["-100", "-50", "-50", "-100"], ["-100", "-100", "-100", "0"]),
    }
    for sent_costs, held_costs in cases.values():
        sent = [(account, Decimal(cost)) for cost in sent_costs] + [("000000000001", Decimal("-10.00"))]
        held = [cbf(account, cost) for cost in held_costs] + [cbf("000000000001", "-10.00")]

        check = compare_month(Reads(sent), Reads(held))

        assert not check.matches
        assert [(d.account_id, d.sent, d.held) for d in check.differences] == [
            (account, sum(map(Decimal, sent_costs)), sum(map(Decimal, held_costs)))
        ]
        assert f"{account}: sent" in check.summary() and "(the same total in other rows)" in check.summary()


def test_a_held_cost_beyond_any_credit_sent_is_a_difference_not_an_error() -> None:
    sent = [("000000000001", Decimal("-100.00"))]
    for held_cost in ("-1E+250", "-0." + "1" * 201, "0E-1000"):
        held = [cbf("000000000001", "-100.00"), cbf("000000000001", held_cost)]

        check = compare_month(Reads(sent), Reads(held))

        assert not check.matches
        assert [d.account_id for d in check.differences] == ["000000000001"]
        assert check.differences[0].held.is_nan()


def test_a_cost_cloudzero_holds_that_is_not_a_number_is_a_difference() -> None:
    sent = [("000000000001", Decimal("-1.00")), ("000000000002", Decimal("-2.00"))]
    held = [cbf("000000000001", "-1.00"), cbf("000000000002", "lots")]

    check = compare_month(Reads(sent), Reads(held))

    assert not check.matches
    assert [d.account_id for d in check.differences] == ["000000000002"]


def test_a_month_that_differs_everywhere_names_what_fits_and_is_never_a_match() -> None:
    sent = [(f"{n:012d}", Decimal(f"-{n}.50")) for n in range(1, 3001)]
    held: Held = []  # CloudZero lost the whole month

    check = compare_month(Reads(sent), Reads(held), recheck_rows=1000)

    assert not check.matches
    assert 0 < check.differences_total <= 1000
    assert check.groups_not_compared > 0
    assert {d.account_id for d in check.differences} <= {account for account, _ in sent}
    assert all(d.held == 0 for d in check.differences)
    summary = check.summary()
    assert summary.startswith("CloudZero holds 0 rows totalling 0; 3000 rows totalling")
    assert f"at least {check.differences_total} accounts differ" in summary
    assert f"{check.groups_not_compared} of the month's 4096 account groups differ" in summary


def test_a_few_differences_in_a_large_month_are_all_named_reading_each_side_twice() -> None:
    sent = [(f"{n:012d}", Decimal(f"-{n % 977}.{n % 100:02d}")) for n in range(60_000)]
    changed = {"000000001234": "-1.00", "000000059999": "-0.01"}
    held = [
        cbf(account, changed.get(account, format_money(cost)))
        for account, cost in itertools.chain(sent[:30_000], sent[30_001:])  # one row lost
    ]
    sent_reads, held_reads = Reads(sent), Reads(held)

    check = compare_month(sent_reads, held_reads)

    assert [(d.account_id, d.held) for d in check.differences] == [
        ("000000001234", Decimal("-1.00")),
        ("000000030000", Decimal(0)),
        ("000000059999", Decimal("-0.01")),
    ]
    assert (check.differences_total, check.groups_not_compared) == (3, 0)
    assert (check.rows_sent, check.rows_held) == (60_000, 59_999)
    assert (sent_reads.count, held_reads.count) == (2, 2)
