"""A month's credits -> CBF rows and billing-drop bodies: one `replace_drop` a month, split only when too big.

The bodies the splitter prepares from the credits are byte for byte those of the version-1 batch."""

import json
import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credits_pipeline.domain.cbf import MAX_BODY_BYTES, cbf_rows, drop_bodies, prepare_bodies
from credits_pipeline.domain.credits import AccountCredit, MonthCredits, exact_sum
from credits_pipeline.domain.messages import AccountCreditRow, FileRef, MonthBatch

PLAIN_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
FILE = FileRef(bucket="uploads", key="incoming/credits-2026-01.csv", sha256="a" * 64, format="headerless/1")


def batch(month: str, rows: list[tuple[str, str, str]], service: str = "AWSCredits") -> MonthBatch:
    """rows: (account id, cost text, description)."""
    return MonthBatch(
        file=FILE,
        month=month,
        credits=[
            AccountCreditRow(account_id=account, cost=Decimal(cost), description=description, service=service)
            for account, cost, description in rows
        ],
    )


def test_one_credit_row_per_account_in_the_cbf_shape_cloudzero_expects():
    rows = cbf_rows(
        batch("2026-01", [("073933415963", "-6407.96", "AWS credit"), ("000000001234", "-100", "MAP credit")])
    )
    assert rows == [
        {
            "lineitem/type": "Credit",
            "lineitem/description": "AWS credit",
            "time/usage_start": "2026-01-01T00:00:00Z",
            "resource/account": "073933415963",
            "resource/service": "AWSCredits",
            "cost/cost": "-6407.96",
        },
        {
            "lineitem/type": "Credit",
            "lineitem/description": "MAP credit",
            "time/usage_start": "2026-01-01T00:00:00Z",
            "resource/account": "000000001234",
            "resource/service": "AWSCredits",
            "cost/cost": "-100",
        },
    ]


@pytest.mark.parametrize(
    ("cost", "written"),
    [("-1.23456E3", "-1234.56"), ("-1.2E-5", "-0.000012"), ("-1E+6", "-1000000"), ("-0.0000000001", "-0.0000000001")],
)
def test_costs_are_plain_decimal_strings_never_scientific(cost, written):
    (row,) = cbf_rows(batch("2026-01", [("073933415963", cost, "c")]))
    assert row["cost/cost"] == written


def test_every_cbf_value_is_a_string():
    rows = cbf_rows(batch("2025-12", [("073933415963", "-1", "c"), ("062951470133", "-2.5", "d")]))
    assert all(isinstance(value, str) for row in rows for value in row.values())
    assert {row["time/usage_start"] for row in rows} == {"2025-12-01T00:00:00Z"}


def test_a_normal_month_is_exactly_one_replace_drop_with_every_row():
    month = batch("2026-01", [(f"{n:012d}", f"-{n}.25", "AWS credit") for n in range(1, 201)])
    bodies = drop_bodies(month)
    assert len(bodies) == 1
    (body,) = bodies
    assert (body.operation, body.chunk, body.rows, body.month) == ("replace_drop", 0, 200, "2026-01")
    sent = json.loads(body.body)
    assert sent["month"] == "2026-01-01T00:00:00Z"
    assert sent["operation"] == "replace_drop"
    assert [row["resource/account"] for row in sent["data"]] == [f"{n:012d}" for n in range(1, 201)]
    assert sum(Decimal(row["cost/cost"]) for row in sent["data"]) == -sum(
        Decimal(n) + Decimal("0.25") for n in range(1, 201)
    )


def test_a_month_over_five_megabytes_is_split_under_the_limit_replace_drop_first():
    description = "Promotional credit for the migration acceleration programme, tranche " + "x" * 60
    count = 30_000  # about 250 bytes a row: well over 5 MB in one body
    month = batch("2026-01", [(f"{n:012d}", "-1.01", description) for n in range(count)])
    bodies = drop_bodies(month)
    assert len(bodies) >= 2
    assert all(len(body.body) < 5_000_000 for body in bodies)
    assert [body.operation for body in bodies] == ["replace_drop"] + ["sum"] * (len(bodies) - 1)
    assert [body.chunk for body in bodies] == list(range(len(bodies)))
    accounts = [row["resource/account"] for body in bodies for row in json.loads(body.body)["data"]]
    assert accounts == [f"{n:012d}" for n in range(count)]
    assert sum(body.rows for body in bodies) == count


def test_the_default_limit_stays_under_the_smaller_reading_of_five_mb():
    assert MAX_BODY_BYTES < 5_000_000


def test_a_body_exactly_at_the_limit_is_not_split_and_one_byte_less_is():
    month = batch("2026-01", [(f"{n:012d}", "-10.00", "AWS credit") for n in range(1, 11)])
    size = len(drop_bodies(month, max_bytes=10**9)[0].body)
    assert len(drop_bodies(month, max_bytes=size)) == 1
    smaller = drop_bodies(month, max_bytes=size - 1)
    assert len(smaller) == 2
    assert all(len(body.body) <= size - 1 for body in smaller)


def test_a_row_that_fits_a_body_on_its_own_is_sent_not_refused():
    rows = [("073933415963", "-1.00", "first"), ("062951470133", "-2.00", "second")]
    alone = max(len(drop_bodies(batch("2026-01", [row]), max_bytes=10**9)[0].body) for row in rows)
    bodies = drop_bodies(batch("2026-01", rows), max_bytes=alone)
    assert [body.rows for body in bodies] == [1, 1]
    assert all(len(body.body) <= alone for body in bodies)


def test_a_row_larger_than_the_limit_is_refused_rather_than_sent_oversized():
    month = batch("2026-01", [("073933415963", "-1.00", "x" * 5000), ("062951470133", "-1.00", "y")])
    with pytest.raises(ValueError, match="larger than"):
        drop_bodies(month, max_bytes=1000)


def test_the_limit_counts_bytes_not_characters():
    # "€" is three bytes in UTF-8: a limit counted in characters would let bodies over it through.
    month = batch("2026-01", [(f"{n:012d}", "-1", "€" * 100) for n in range(40)])
    bodies = drop_bodies(month, max_bytes=2000)
    assert len(bodies) > 1
    assert all(len(body.body) <= 2000 for body in bodies)


accounts = st.integers(0, 999_999_999_999).map(lambda n: f"{n:012d}")
costs = st.builds(lambda cents: Decimal(-cents).scaleb(-2), st.integers(1, 10**12))
descriptions = st.text(max_size=60)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(accounts, costs, descriptions), min_size=1, max_size=40),
    st.integers(0, 3000),
)
def test_split_bodies_are_under_the_limit_in_order_and_add_up(credits, slack):
    month = MonthBatch(
        file=FILE,
        month="2026-01",
        credits=[
            AccountCreditRow(account_id=account, cost=cost, description=text, service="AWSCredits")
            for account, cost, text in credits
        ],
    )
    # The smallest sensible limit: the largest single-row body; anything less cannot be sent at all.
    smallest = max(
        len(json.dumps({"month": "2026-01-01T00:00:00Z", "operation": "replace_drop", "data": [row]},
                       separators=(",", ":"), ensure_ascii=False).encode())
        for row in cbf_rows(month)
    )  # fmt: skip
    max_bytes = smallest + slack
    bodies = drop_bodies(month, max_bytes=max_bytes)

    assert all(len(body.body) <= max_bytes for body in bodies)
    assert [body.operation for body in bodies] == ["replace_drop"] + ["sum"] * (len(bodies) - 1)
    decoded = [json.loads(body.body) for body in bodies]
    assert all(drop["month"] == "2026-01-01T00:00:00Z" for drop in decoded)
    assert [drop["operation"] for drop in decoded] == [body.operation for body in bodies]
    assert [row for drop in decoded for row in drop["data"]] == cbf_rows(month)
    assert [body.rows for body in bodies] == [len(drop["data"]) for drop in decoded]
    assert all(body.rows > 0 for body in bodies)
    sent_total = sum(Decimal(row["cost/cost"]) for drop in decoded for row in drop["data"])
    assert sent_total == sum(cost for _, cost, _ in credits)
    assert all(PLAIN_DECIMAL.match(row["cost/cost"]) for drop in decoded for row in drop["data"])


# ---------------------------------------------------------------- prepared bodies (what the splitter stores)


def credit(account: str, cost: Decimal, description: str = "AWS credit", service: str = "AWSCredits") -> AccountCredit:
    return AccountCredit(account, "2026-01", cost, description, service, (1,), 1)


def as_batch(credits: list[AccountCredit]) -> MonthBatch:
    return MonthBatch.from_month_credits(FILE, MonthCredits("2026-01", credits))


# Costs as formats read them, in every exponent form a Decimal can take.
any_costs = st.one_of(
    costs,
    st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(lambda d: abs(d) < 10**30),
    st.sampled_from([Decimal("-0.00"), Decimal("0"), Decimal("-1E+6"), Decimal("-1.2E-7"), Decimal("-5.000")]),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(accounts, any_costs, descriptions, st.sampled_from(["AWSCredits", 'Svc "quoted" \\ \t'])),
        min_size=1,
        max_size=40,
    ),
    st.integers(0, 3000),
)
def test_prepared_bodies_are_byte_for_byte_the_bodies_of_the_batch(credits, slack):
    month = [credit(account, cost, text, service) for account, cost, text, service in credits]
    batch = as_batch(month)
    smallest = max(len(drop_bodies(as_batch([one]), max_bytes=10**9)[0].body) for one in month)
    max_bytes = smallest + slack

    prepared = list(prepare_bodies("2026-01", month, max_bytes=max_bytes))

    assert [item.body for item in prepared] == drop_bodies(batch, max_bytes=max_bytes)
    assert [item.total for item in prepared] == [
        exact_sum(Decimal(row["cost/cost"]) for row in json.loads(item.body.body)["data"]) for item in prepared
    ]


def test_a_month_over_five_megabytes_is_prepared_in_chunks_under_the_limit_that_add_up() -> None:
    description = "Promotional credit for the migration acceleration programme, tranche " + "x" * 60
    month = [credit(f"{n:012d}", Decimal(f"-{n}.{n % 100:02d}"), description) for n in range(30_000)]

    prepared = list(prepare_bodies("2026-01", month))

    assert len(prepared) >= 2
    assert all(len(item.body.body) <= MAX_BODY_BYTES for item in prepared)
    assert [item.body.operation for item in prepared] == ["replace_drop"] + ["sum"] * (len(prepared) - 1)
    assert [item.body.body for item in prepared] == [body.body for body in drop_bodies(as_batch(month))]
    assert sum(item.body.rows for item in prepared) == len(month)
    assert sum((item.total for item in prepared), Decimal(0)) == MonthCredits("2026-01", month).total


@pytest.mark.parametrize(
    "bad",
    [
        credit("73933415963", Decimal("-1")),  # 11 digits
        credit("07393341596a", Decimal("-1")),
        credit("١٢٣٤٥٦٧٨٩٠١٢", Decimal("-1")),  # digits, not ASCII ones
        credit("073933415963", Decimal("NaN")),
        credit("073933415963", Decimal("-Infinity")),
    ],
)
def test_a_credit_no_batch_would_hold_is_refused_rather_than_prepared(bad: AccountCredit) -> None:
    with pytest.raises(ValueError, match="not a sendable credit"):
        list(prepare_bodies("2026-01", [credit("062951470133", Decimal("-1")), bad]))


def test_an_empty_month_is_refused_rather_than_prepared_as_a_wipe() -> None:
    with pytest.raises(ValueError, match="no credits"):
        list(prepare_bodies("2026-01", []))
