"""Cost Explorer: the console's "Download as CSV" and GetCostAndUsage responses (RECORD_TYPE Credit)."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.unit.formats.helpers import credits_of, fixture, read_bytes, read_fixture, rejected_bytes, totals

CSV = "cost-explorer/cost-explorer-2026-q1.csv"
LATER = date(2026, 11, 28)  # a day on which every month of 2026-01..2026-10 is over
DEFAULT = ("AWSCredits", "AWS credit")  # service, description: Cost Explorer names neither


def by_account(credit_file, month: str) -> dict[str, Decimal]:
    return {account: cost for (account, _, _), cost in credits_of(credit_file, month).items()}


def csv_text() -> str:
    return fixture(CSV).read_text()


# --- the console's CSV download ----------------------------------------------------------------------


def test_the_csv_download_gives_credits_per_account_per_month_with_their_sign():
    credit_file = read_fixture(CSV)
    assert credit_file.format_id == "aws-cost-explorer-csv/1"
    assert by_account(credit_file, "2026-01") == {
        "111122223333": Decimal("-120.5012"),
        "444455556666": Decimal("-30.25"),  # the blank cell of 777788889999 is no credit
    }
    assert by_account(credit_file, "2026-02") == {
        "111122223333": Decimal("-80.00"),
        "444455556666": Decimal("5.00"),  # a reversal keeps its positive sign
        "777788889999": Decimal("-12.3456"),  # from the column "Member Three (777788889999)($)"
    }
    assert totals(credit_file) == {
        "2026-01": Decimal("-150.7512"),
        "2026-02": Decimal("-87.3456"),
        "2026-03": Decimal("-70.2544001"),
    }
    assert {(c.service, c.description) for m in credit_file.months.values() for c in m.credits} == {DEFAULT}
    assert credit_file.currency == "USD"


def test_the_totals_row_and_column_are_not_credits_but_are_checked():
    credit_file = read_fixture(CSV)
    assert credit_file.ignored_by_type == {"totals row": 1, "no credit in the period": 1}
    assert credit_file.credit_rows == 8  # account cells only: the Total costs($) column is never a credit
    assert any("add up to all 7 totals" in note for note in credit_file.notes), credit_file.notes


def test_a_daily_download_is_summed_per_month():
    credit_file = read_fixture("cost-explorer/cost-explorer-daily-2026-02.csv")
    assert by_account(credit_file, "2026-02") == {"111122223333": Decimal("-28.00"), "444455556666": Decimal("-7.00")}


def test_a_totals_row_cell_a_cent_off_rejects_the_file_with_both_figures():
    error = rejected_bytes(fixture("rejections/cost-explorer-total-off.csv").read_bytes())
    message = str(error)
    assert "111122223333($)" in message
    assert "-240.5112001" in message  # what the totals row states
    assert "-240.5012001" in message  # what the credits read add up to
    assert error.line == 2


def test_a_period_row_whose_total_costs_cell_disagrees_rejects_the_file_with_both_figures():
    data = csv_text().replace("-87.3456\n", "-87.3556\n").encode()
    message = str(rejected_bytes(data))
    assert "Total costs($) cell of the 2026-02-01 row" in message
    assert "states -87.3556" in message
    assert "add up to -87.3456" in message


def test_the_corner_total_is_the_whole_file_to_the_cent():
    # -308.35 is -308.3512001 to the cent: it agrees
    assert read_bytes(csv_text().replace(",-308.3512001\n", ",-308.35\n").encode()).months
    data = csv_text().replace(",-308.3512001\n", ",-308.36\n").encode()
    message = str(rejected_bytes(data))
    assert "Total costs($) cell" in message
    assert "states -308.36" in message
    assert "add up to -308.3512001" in message


def test_an_unreadable_cell_is_not_in_the_credits_read_so_the_totals_reject_the_file():
    data = csv_text().replace("2026-01-01,-120.5012,-30.25,", "2026-01-01,-120.5012,thirty,").encode()
    # even where the invalid share would let the file through, its totals do not
    error = rejected_bytes(data, max_invalid_share=Decimal("0.5"))
    assert "states -55.50, the credits read add up to -25.25" in str(error)
    assert "1 row was skipped as invalid" in str(error)
    assert any("not an amount: 'thirty'" in problem for problem in error.problems)


def test_a_download_grouped_by_service_is_rejected():
    data = b"Service,Amazon EC2($),Total costs($)\nService total,-5.00,-5.00\n2026-01-01,-5.00,-5.00\n"
    assert "grouped by 'Service'" in str(rejected_bytes(data))


def test_a_column_naming_an_account_by_name_only_is_rejected():
    data = csv_text().replace("Member Three (777788889999)($)", "Member Three($)").encode()
    error = str(rejected_bytes(data))
    assert "'Member Three($)'" in error
    assert "no 12-digit account id" in error


def test_periods_that_start_mid_month_are_rejected_naming_the_month():
    data = csv_text().replace("2026-01-01,", "2026-01-15,").encode()
    message = str(rejected_bytes(data))
    assert "2026-01" in message
    assert "start on 2026-01-15" in message


def test_a_day_missing_from_a_daily_download_is_rejected():
    text = fixture("cost-explorer/cost-explorer-daily-2026-02.csv").read_text()
    lines = text.splitlines(keepends=True)
    without_the_10th = "".join(line for line in lines if not line.startswith("2026-02-10,"))
    # drop that day from the totals too, so only the missing day is wrong
    without_the_10th = without_the_10th.replace("-28.00,-7.00,-35.00", "-27.00,-6.50,-33.50")
    assert "no row for 2026-02-10" in str(rejected_bytes(without_the_10th.encode()))


@pytest.mark.parametrize(
    "periods",
    [[f"2026-02-{day:02d} 00:00:00" for day in range(1, 29)], [f"2026-02-01T{hour:02d}:00:00Z" for hour in range(24)]],
    ids=["days written with a time", "hours"],
)
def test_periods_written_with_a_time_are_each_their_own_row(periods):
    rows = "".join(f"{period},-1.00,-1.00\n" for period in periods)
    credit_file = read_bytes(("Linked account,111122223333($),Total costs($)\n" + rows).encode())
    assert totals(credit_file) == {"2026-02": -Decimal(len(periods))}


@pytest.mark.parametrize("second", ["2026-01-01", "2026-01-01 00:00:00", "2026-01-01T00:00:00Z"])
def test_one_period_written_two_ways_is_a_period_twice(second):
    rows = f"2026-01,-100.00,-100.00\n{second},-100.00,-100.00\n"
    error = rejected_bytes(("Linked account,111122223333($),Total costs($)\n" + rows).encode())
    assert "a second row for the period 2026-01-01 (the first is line 2)" in str(error)


def test_a_period_row_pasted_twice_is_rejected_naming_the_second_line():
    header = "Linked account,111122223333($),Total costs($)\n"
    row = "2026-01-01,-100.00,-100.00\n"
    assert totals(read_bytes((header + row).encode())) == {"2026-01": Decimal("-100.00")}
    error = rejected_bytes((header + row + row).encode())
    assert error.line == 3
    assert "a second row for the period 2026-01-01 (the first is line 2)" in str(error)


def test_a_daily_download_ending_before_the_month_does_is_read_with_a_note():
    text = (
        "Linked account,111122223333($),Total costs($)\n"
        "Linked account total,-3.00,-3.00\n"
        "2026-01-01,-1.00,-1.00\n"
        "2026-01-02,-1.00,-1.00\n"
        "2026-01-03,-1.00,-1.00\n"
    )
    credit_file = read_bytes(text.encode(), today=date(2026, 1, 4))
    assert totals(credit_file) == {"2026-01": Decimal("-3.00")}
    assert (
        "2026-01 is covered only up to 2026-01-04 (the month is not over): a later file for the month replaces it"
        in credit_file.notes
    )


def test_a_daily_download_of_part_of_a_month_that_is_over_is_rejected_not_sent_as_the_whole_month():
    days = "".join(f"2026-01-{day:02d},-1.00,-1.00\n" for day in range(1, 11))
    text = "Linked account,111122223333($),Total costs($)\nLinked account total,-10.00,-10.00\n" + days
    error = rejected_bytes(text.encode(), today=LATER)
    assert "the file covers 2026-01 only from 2026-01-01 through 2026-01-10, and 2026-01 is over" in str(error)
    assert "(a date range through 2026-01-31)" in str(error)
    assert error.line == 12  # the row of 2026-01-10, where the file stops
    # The same download on the first day after the month: the month is over.
    assert "2026-01 is over" in str(rejected_bytes(text.encode(), today=date(2026, 2, 1)))
    assert totals(read_bytes(text.encode(), today=date(2026, 1, 31))) == {"2026-01": Decimal("-10.00")}


def test_a_download_without_the_credit_filter_is_costs_and_is_rejected():
    text = "Linked account,111122223333($),Total costs($)\nLinked account total,10.00,10.00\n2026-01-01,10.00,10.00\n"
    assert "costs, not credits" in str(rejected_bytes(text.encode()))


def test_a_download_without_the_credit_filter_is_rejected_even_with_a_refund_among_the_costs():
    text = (
        "Linked account,111122223333($),444455556666($),555566667777($),Total costs($)\n"
        "Linked account total,4980.00,1180.00,-40.00,6120.00\n"
        "2025-12-01,-20.00,-20.00,-20.00,-60.00\n"
        "2026-01-01,5000.00,1200.00,-20.00,6180.00\n"
    )
    error = rejected_bytes(text.encode())
    assert str(error).endswith(
        "the amounts for 2026-01 add up to +6180.00: these look like costs, not credits "
        "(set the Record type filter to Credit before downloading)"
    )
    assert error.line == 4  # the month's row


def test_the_csv_is_recognised_whatever_the_file_is_called():
    credit_file = read_bytes(fixture(CSV).read_bytes(), name="incoming/credits-2025-07.csv")
    assert credit_file.format_id == "aws-cost-explorer-csv/1"
    assert list(credit_file.months) == ["2026-01", "2026-02", "2026-03"]  # from the rows, not the name


# --- the API's JSON -----------------------------------------------------------------------------------


def group(account: str, amount: str, *more: str) -> dict[str, object]:
    return {"Keys": [account, *more], "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}}}


def result(start: str, end: str, groups: list[dict[str, object]]) -> dict[str, object]:
    return {"TimePeriod": {"Start": start, "End": end}, "Total": {}, "Groups": groups, "Estimated": False}


def response(results: list[dict[str, object]], *keys: str, token: str | None = None) -> dict[str, object]:
    page: dict[str, object] = {
        "GroupDefinitions": [{"Type": "DIMENSION", "Key": key} for key in keys or ("LINKED_ACCOUNT",)],
        "ResultsByTime": results,
    }
    if token:
        page["NextPageToken"] = token
    return page


JANUARY = result("2026-01-01", "2026-02-01", [group("111122223333", "-1.50"), group("444455556666", "-2.25")])


def test_an_api_response_gives_credits_per_account_per_month():
    credit_file = read_fixture("cost-explorer/get-cost-and-usage-2026-q1.json")
    assert credit_file.format_id == "aws-cost-explorer-api/1"
    assert by_account(credit_file, "2026-01") == {
        "111122223333": Decimal("-120.5012"),
        "444455556666": Decimal("-30.25"),
    }
    assert by_account(credit_file, "2026-02") == {
        "111122223333": Decimal("-80.0000000000"),
        "444455556666": Decimal("5"),  # a reversal keeps its sign
        "777788889999": Decimal("-12.3456"),
    }
    assert credit_file.month_source == "ResultsByTime[].TimePeriod.Start"
    assert credit_file.line_unit == "record"


def test_an_unfinished_estimated_month_is_read_and_noted():
    credit_file = read_fixture("cost-explorer/get-cost-and-usage-2026-q1.json")
    assert by_account(credit_file, "2026-03") == {"111122223333": Decimal("-40.0000001")}
    assert any("2026-03 is covered only up to 2026-03-15" in note for note in credit_file.notes), credit_file.notes
    assert any("Estimated" in note for note in credit_file.notes)


def test_a_response_covering_part_of_a_month_that_is_over_is_rejected_unless_estimated():
    part = result("2026-01-01", "2026-01-11", [group("111122223333", "-10.00")])
    data = json.dumps(response([JANUARY, part | {"TimePeriod": {"Start": "2026-02-01", "End": "2026-02-11"}}]))
    error = rejected_bytes(data.encode(), name="incoming/ce.json", today=LATER)
    assert "the file covers 2026-02 only from 2026-02-01 through 2026-02-10, and 2026-02 is over" in str(error)
    assert error.line == 3  # the group of the period where the file stops
    alone = json.dumps(response([part])).encode()
    assert "the file covers 2026-01 only" in str(rejected_bytes(alone, name="incoming/ce.json", today=LATER))
    # While the month runs, or while Cost Explorer marks it Estimated (in progress), it is read with a note.
    for today, estimated in ((date(2026, 1, 11), False), (LATER, True)):
        credit_file = read_bytes(
            json.dumps(response([part | {"Estimated": estimated}])).encode(), name="incoming/ce.json", today=today
        )
        assert totals(credit_file) == {"2026-01": Decimal("-10.00")}
        assert any("2026-01 is covered only up to 2026-01-11" in note for note in credit_file.notes)


def daily(month_start: date, month_end: date, empty: set[int]) -> list[dict[str, object]]:
    """One period per day of the range; the days in `empty` had no credits (`"Groups": []`, as the API answers)."""
    days = []
    day = month_start
    while day < month_end:
        groups = [] if day.day in empty else [group("111122223333", "-1.00")]
        days.append(result(day.isoformat(), (day + timedelta(days=1)).isoformat(), groups))
        day += timedelta(days=1)
    return days


@pytest.mark.parametrize("empty", [{30, 31}, {1, 2}, {15}, {1, 31}])
def test_a_daily_response_of_a_whole_month_is_read_even_when_some_days_had_no_credits(empty):
    data = json.dumps(response(daily(date(2026, 10, 1), date(2026, 11, 1), empty))).encode()
    credit_file = read_bytes(data, name="incoming/ce-2026-10.json", today=LATER)
    assert totals(credit_file) == {"2026-10": Decimal(-(31 - len(empty)))}
    assert credit_file.notes == []


def test_a_response_whose_last_periods_are_missing_not_empty_is_still_rejected():
    days = daily(date(2026, 10, 1), date(2026, 10, 30), {29})  # Oct 29 had no credits; Oct 30-31 are not there
    error = rejected_bytes(json.dumps(response(days)).encode(), name="incoming/ce.json", today=LATER)
    assert "the file covers 2026-10 only from 2026-10-01 through 2026-10-29" in str(error)


def test_a_partial_month_rejection_says_the_requests_end_is_exclusive():
    part = result("2026-01-01", "2026-01-31", [group("111122223333", "-10.00")])  # End = the last day: a day short
    error = rejected_bytes(json.dumps(response([part])).encode(), name="incoming/ce.json", today=LATER)
    assert "the file covers 2026-01 only from 2026-01-01 through 2026-01-30" in str(error)
    assert "End 2026-02-01" in str(error) and "End is exclusive" in str(error)


def test_pages_saved_one_after_another_read_as_one_response():
    paged = read_fixture("cost-explorer/get-cost-and-usage-pages.json")
    whole = read_fixture("cost-explorer/get-cost-and-usage-2026-q1.json")
    assert totals(paged) == {month: totals(whole)[month] for month in ("2026-01", "2026-02")}
    assert by_account(paged, "2026-02") == by_account(whole, "2026-02")


@pytest.mark.parametrize("shape", ["list", "lines"])
def test_pages_as_a_list_or_json_lines_read_the_same(shape):
    first = response([JANUARY], token="NEXT")
    second = response([result("2026-01-01", "2026-02-01", [group("777788889999", "-3")])])
    text = json.dumps([first, second]) if shape == "list" else json.dumps(first) + "\n" + json.dumps(second) + "\n"
    credit_file = read_bytes(text.encode(), name="incoming/ce.json")
    assert totals(credit_file) == {"2026-01": Decimal("-6.75")}


def test_a_second_group_by_service_names_the_service_and_record_type_keeps_credits_only():
    results = [
        result(
            "2026-01-01",
            "2026-02-01",
            [
                group("111122223333", "-1.50", "Amazon EC2", "Credit"),
                group("111122223333", "-2.00", "Amazon S3", "Credit"),
                group("111122223333", "99.00", "Amazon S3", "Usage"),
            ],
        )
    ]
    data = json.dumps(response(results, "LINKED_ACCOUNT", "SERVICE", "RECORD_TYPE")).encode()
    credit_file = read_bytes(data, name="incoming/ce.json")
    assert credits_of(credit_file, "2026-01") == {
        ("111122223333", "Amazon EC2", "AWS credit"): Decimal("-1.50"),
        ("111122223333", "Amazon S3", "AWS credit"): Decimal("-2.00"),
    }
    assert credit_file.ignored_by_type == {"Usage": 1}


def test_a_file_whose_every_page_continues_is_missing_its_last_page():
    data = json.dumps(response([JANUARY], token="MORE")).encode()
    assert "NextPageToken" in str(rejected_bytes(data, name="incoming/ce.json"))


def test_a_page_saved_twice_is_rejected_not_summed_twice():
    page = json.dumps(response([JANUARY]))
    error = rejected_bytes((page + "\n" + page).encode(), name="incoming/ce.json")
    assert "saved twice" in str(error)


def test_a_page_downloaded_again_is_rejected_by_its_next_page_token_even_if_its_groups_changed():
    again = result("2026-01-01", "2026-02-01", [group("111122223333", "-1.75")])
    last = result("2026-01-01", "2026-02-01", [group("777788889999", "-3")])
    pages = [response([JANUARY], token="NEXT"), response([again], token="NEXT"), response([last])]
    error = rejected_bytes(json.dumps(pages).encode(), name="incoming/ce.json")
    assert "page 2 has the same NextPageToken as page 1 ('NEXT'): a page is saved twice in the file" in str(error)


def test_a_response_not_grouped_by_linked_account_is_rejected():
    data = json.dumps(response([JANUARY], "SERVICE")).encode()
    assert "not LINKED_ACCOUNT" in str(rejected_bytes(data, name="incoming/ce.json"))


def test_a_response_starting_mid_month_is_rejected():
    late = result("2026-01-10", "2026-02-01", [group("111122223333", "-1.50")])
    message = str(rejected_bytes(json.dumps(response([late])).encode(), name="incoming/ce.json"))
    assert "start on 2026-01-10" in message


def test_a_day_missing_between_daily_periods_is_rejected():
    days = [("2026-01-01", "2026-01-02"), ("2026-01-02", "2026-01-03"), ("2026-01-04", "2026-01-05")]
    results = [result(start, end, [group("111122223333", "-1")]) for start, end in days]
    message = str(rejected_bytes(json.dumps(response(results)).encode(), name="incoming/ce.json"))
    assert "no period from 2026-01-03 to 2026-01-04" in message


def test_a_response_of_costs_is_rejected():
    costs = result("2026-01-01", "2026-02-01", [group("111122223333", "12.00")])
    assert "costs, not credits" in str(rejected_bytes(json.dumps(response([costs])).encode(), name="incoming/ce.json"))


def test_a_response_whose_month_adds_up_to_costs_is_rejected_naming_its_first_record():
    costs = result(
        "2026-02-01",
        "2026-03-01",
        [group("111122223333", "5000.00"), group("444455556666", "1200.00"), group("555566667777", "-20.00")],
    )
    error = rejected_bytes(json.dumps(response([JANUARY, costs])).encode(), name="incoming/ce.json")
    assert "the amounts for 2026-02 add up to +6180.00: these look like costs, not credits" in str(error)
    assert error.line == 3


def test_amounts_written_as_json_numbers_are_read_exactly():
    text = json.dumps(response([result("2026-01-01", "2026-02-01", [group("111122223333", "__N__")])]))
    data = text.replace('"__N__"', "-0.1000000000000000055511151231257827").encode()
    credit_file = read_bytes(data, name="incoming/ce.json")
    assert totals(credit_file) == {"2026-01": Decimal("-0.1000000000000000055511151231257827")}


@pytest.mark.parametrize(
    "header",
    ["Account ID,Month,Amount (USD),Total (USD)", "Account ID,Month,Amount($),Total($)"],
)
def test_a_hand_made_sheet_with_dollar_columns_is_not_taken_for_a_cost_explorer_download(header):
    credit_file = read_bytes(f"{header}\n123456789012,2024-09,10,10\n".encode())
    assert credit_file.format_id == "sheet-long/1"
    assert totals(credit_file) == {"2024-09": Decimal("-10")}
