"""Billing months: read from object keys, turned into CloudZero's month starts, and counted."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credits_pipeline.domain.months import (
    NoMonth,
    month_from_key,
    month_start,
    month_tokens,
    months_between,
    next_month,
)


@pytest.mark.parametrize(
    ("key", "month"),
    [
        ("incoming/credits-2026-01.csv", "2026-01"),
        ("credits-2025-12.csv", "2025-12"),
        ("incoming/2026-03/credits.csv", "2026-03"),  # month only in the folder
        ("incoming/2025-01/credits-2026-02.csv", "2026-02"),  # the file's own name wins
        ("incoming/credits-2026-01-15.csv", "2026-01"),  # a date names its month
    ],
)
def test_month_is_read_from_the_object_key(key, month):
    assert month_from_key(key) == month


@pytest.mark.parametrize(
    "key",
    [
        "incoming/credits.csv",
        "incoming/credits-2026-13.csv",
        "incoming/credits-2026-00.csv",
        "incoming/credits-202601.csv",
        "incoming/credits-12026-01.csv",
    ],
)
def test_a_key_without_a_month_is_refused(key):
    with pytest.raises(NoMonth, match="month"):
        month_from_key(key)


def test_a_key_naming_several_months_is_refused_and_names_them():
    with pytest.raises(NoMonth) as caught:
        month_from_key("incoming/credits-2025-12-to-2026-02.csv")
    assert "2025-12" in str(caught.value)
    assert "2026-02" in str(caught.value)


def test_month_tokens_are_distinct_and_in_order():
    assert month_tokens("2026-02_2025-11_2026-02_x2024-01") == ["2026-02", "2025-11", "2024-01"]


def test_month_start_is_the_first_of_the_month_at_midnight_utc():
    assert month_start("2026-01") == "2026-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("month", "following"),
    [("2025-01", "2025-02"), ("2025-09", "2025-10"), ("2025-12", "2026-01"), ("1999-12", "2000-01")],
)
def test_next_month(month, following):
    assert next_month(month) == following


months = st.builds(lambda year, number: f"{year:04d}-{number:02d}", st.integers(2000, 2099), st.integers(1, 12))


def _index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def _from_index(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@settings(max_examples=200)
@given(months)
def test_next_month_is_one_month_later(month):
    assert next_month(month) == _from_index(_index(month) + 1)


@settings(max_examples=200)
@given(months)
def test_month_in_a_credits_key_is_found(month):
    assert month_from_key(f"incoming/credits-{month}.csv") == month


@settings(max_examples=100)
@given(months, st.integers(0, 40))
def test_months_between_is_inclusive_and_consecutive(first, extra):
    last = _from_index(_index(first) + extra)
    assert months_between(first, last) == [_from_index(_index(first) + i) for i in range(extra + 1)]


def test_months_between_across_a_year_end():
    assert months_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]


def test_months_between_refuses_a_backwards_range():
    with pytest.raises(NoMonth, match="backwards"):
        months_between("2026-02", "2026-01")


def test_a_month_range_wider_than_five_years_is_refused_not_expanded():
    assert len(months_between("2021-01", "2025-12")) == 60
    with pytest.raises(NoMonth, match="61 months"):
        months_between("2021-01", "2026-01")
