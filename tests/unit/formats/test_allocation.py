"""AWS Billing credit allocation history: the API's JSON as saved, its pages, JSON Lines, flattened CSV."""

import json
from decimal import Decimal

import pytest

from testdata.allocation import allocation_entry
from testdata.headerless import numbered_accounts
from tests.unit.formats.helpers import credits_of, read_bytes, read_fixture, rejected_bytes, totals

EXPECTED_MARCH = {
    ("073933415963", "Amazon Elastic Compute Cloud", "AWS Activate Credits"): Decimal("-120.50"),
    ("073933415963", "Amazon Simple Storage Service", "AWS Activate Credits"): Decimal("-30.25"),
    ("062951470133", "Amazon Relational Database Service", "AWS Migration Acceleration Program"): Decimal("-1000"),
}
EXPECTED_APRIL = {
    ("073933415963", "Amazon Elastic Compute Cloud", "AWS Activate Credits"): Decimal("-45.125"),
    ("062951470133", "Amazon Relational Database Service", "AWS Migration Acceleration Program"): Decimal("5.00"),
}


@pytest.mark.parametrize(
    ("relative", "unit"),
    [
        ("allocation/credit-allocation.json", "record"),
        ("allocation/credit-allocation-pages.json", "record"),
        ("allocation/credit-allocation.jsonl", "record"),
        ("allocation/credit-allocation.csv", "line"),
    ],
)
def test_every_form_of_the_allocation_history_reads_alike(relative, unit):
    credit_file = read_fixture(relative)
    assert credit_file.format_id == "aws-credit-allocation/1"
    assert credits_of(credit_file, "2025-03") == EXPECTED_MARCH
    assert credits_of(credit_file, "2025-04") == EXPECTED_APRIL  # a positive entry keeps its sign
    assert credit_file.line_unit == unit
    assert credit_file.notes == [
        "2 credit rows are on an estimated bill (not final yet): a later file for the month replaces them"
    ]


def test_numbers_in_json_are_read_exactly_never_as_floats():
    entry = {
        "accountId": 73933415963,  # a number: read as text and padded
        "billingMonth": "2025-03",
        "creditAmount": {"currencyAmount": -0.1234567890123456789, "currencyCode": "USD"},
        "creditId": "1",
        "appliedServiceName": "EC2",
        "isEstimatedBill": False,
    }
    text = json.dumps([entry]).replace("-0.12345678901234568", "-0.1234567890123456789")
    credit_file = read_bytes(text.encode())
    assert credits_of(credit_file, "2025-03") == {
        ("073933415963", "EC2", "AWS credit"): Decimal("-0.1234567890123456789")
    }


def test_a_record_holding_an_empty_list_is_read_and_an_empty_page_is_not():
    tagged = allocation_entry("111122223333", "2025-03", "-250.00", service="EC2") | {"tags": []}
    pages = [
        {"creditAllocationHistoryList": [allocation_entry("123456789012", "2025-03", "-100.00", service="EC2")]},
        {"creditAllocationHistoryList": [tagged], "nextToken": "AAAA"},
        {"creditAllocationHistoryList": [], "nextToken": None},  # the last page: nothing left
    ]
    credit_file = read_bytes(json.dumps(pages).encode())
    assert credits_of(credit_file, "2025-03") == {
        ("123456789012", "EC2", "AWS Activate Credits"): Decimal("-100.00"),
        ("111122223333", "EC2", "AWS Activate Credits"): Decimal("-250.00"),
    }
    assert credit_file.ignored_by_type == {"empty page of results": 1}
    assert credit_file.skipped_total == 0


# --- saved pages ---------------------------------------------------------------------------------------

CREDIT = allocation_entry("073933415963", "2025-03", "-120.50", service="EC2")


def page(token: str | None, *entries: dict[str, object]) -> dict[str, object]:
    return {"creditAllocationHistoryList": list(entries or [CREDIT]), "nextToken": token}


def test_a_response_whose_next_token_asks_for_more_is_missing_its_other_pages():
    for complete in (page(None), {"creditAllocationHistoryList": [CREDIT]}):  # as the API ends a response
        assert totals(read_bytes(json.dumps(complete).encode())) == {"2025-03": Decimal("-120.50")}
    error = rejected_bytes(json.dumps(page("abc")).encode())
    assert str(error).endswith(
        "the page of record 1 has a nextToken, as every page in the file does: "
        "the response continues on a page that is not in the file"
    )
    assert error.line == 1


@pytest.mark.parametrize("token", ["abc", None])
@pytest.mark.parametrize("shape", ["list", "lines", "reformatted"])
def test_a_page_saved_twice_is_rejected_not_summed_twice(shape, token):
    text = {
        "list": json.dumps([page(token), page(token)]),
        "lines": json.dumps(page(token)) + "\n" + json.dumps(page(token)) + "\n",
        "reformatted": json.dumps(page(token)) + "\n" + json.dumps(page(token), indent=4),
    }[shape]
    error = rejected_bytes(text.encode())
    assert "the page of record 2 is a copy of the page of record 1: a page is saved twice in the file" in str(error)
    assert error.line == 2


def test_an_entry_saved_twice_is_rejected_naming_both_not_summed_twice():
    # The same creditId, account, month and service twice: in one page, across two pages, with no pages at all.
    for shape, second in (
        (page(None, CREDIT, CREDIT), 2),
        ([page("abc"), page(None)], 2),
        ([CREDIT, CREDIT], 2),
        ([CREDIT, CREDIT | {"creditAmount": {"currencyAmount": "-99", "currencyCode": "USD"}}], 2),
    ):
        error = rejected_bytes(json.dumps(shape).encode())
        assert error.line == second
        assert error.reason.endswith(
            "records 1 and 2 are one credit allocation entry twice (creditId 1001, account 073933415963, "
            "billingMonth 2025-03, appliedServiceName EC2): saved twice or a broken export; summed, its credit "
            "would count twice"
        )
    lines = "".join(json.dumps(entry) + "\n" for entry in (CREDIT, CREDIT))
    assert "records 1 and 2 are one credit allocation entry twice" in str(rejected_bytes(lines.encode()))
    header = (
        "creditId,accountId,billingMonth,creditAmount.currencyAmount,creditAmount.currencyCode,appliedServiceName\n"
    )
    row = "1001,073933415963,2025-03,-120.50,USD,EC2\n"
    error = rejected_bytes((header + row + "1002,073933415963,2025-03,-1,USD,EC2\n" + row).encode())
    assert "lines 2 and 4 are one credit allocation entry twice" in str(error)
    assert error.line == 4
    # Another credit, service or month is another entry; entries without a creditId cannot be told apart.
    anonymous = {key: value for key, value in CREDIT.items() if key != "creditId"}
    entries = [
        CREDIT,
        allocation_entry("073933415963", "2025-03", "-1", service="EC2", credit_id="1002"),
        allocation_entry("073933415963", "2025-03", "-2", service="S3"),
        allocation_entry("073933415963", "2025-04", "-3", service="EC2"),
        anonymous,
        anonymous,
    ]
    assert totals(read_bytes(json.dumps(entries).encode())) == {"2025-03": Decimal("-364.50"), "2025-04": Decimal("-3")}


def test_an_identical_page_is_rejected():
    error = rejected_bytes(json.dumps([page("abc"), page(None), page(None)]).encode())
    assert "the page of record 3 is a copy of the page of record 2" in str(error)


def test_a_page_downloaded_again_is_rejected_by_its_next_token_even_if_its_credits_changed():
    later = allocation_entry("073933415963", "2025-03", "-120.75", service="EC2")
    other = allocation_entry("062951470133", "2025-03", "-5.00", service="EC2")
    pages = [page("abc"), page("abc", later), page(None, other)]
    error = rejected_bytes(json.dumps(pages).encode())
    assert "the page of record 2 has the same nextToken as the page of record 1 ('abc')" in str(error)
    assert error.line == 2


@pytest.mark.parametrize("own", [{"count": 0}, {"requestId": "r-1"}, {"has_more": False}])
def test_an_empty_last_page_with_values_of_its_own_is_an_empty_page(own):
    entry = allocation_entry("123456789012", "2025-03", "-10.00", service="EC2")
    pages = [
        {"creditAllocationHistoryList": [entry], "nextToken": "A"},
        {"creditAllocationHistoryList": [], "nextToken": None} | own,  # the last page: it ends the response
    ]
    credit_file = read_bytes(json.dumps(pages).encode())
    assert credits_of(credit_file, "2025-03") == {("123456789012", "EC2", "AWS Activate Credits"): Decimal("-10.00")}
    assert credit_file.ignored_by_type == {"empty page of results": 1}
    assert credit_file.skipped_total == 0


def test_records_that_all_hold_an_empty_list_are_read():
    entries = [
        allocation_entry(account, "2025-03", "-1.00", service="EC2") | {"tags": []}
        for account in ("123456789012", "111122223333")
    ]
    credit_file = read_bytes(json.dumps({"creditAllocationHistoryList": entries}).encode())
    assert credits_of(credit_file, "2025-03") == {
        ("123456789012", "EC2", "AWS Activate Credits"): Decimal("-1.00"),
        ("111122223333", "EC2", "AWS Activate Credits"): Decimal("-1.00"),
    }


def test_a_record_that_is_not_readable_is_an_invalid_row():
    good = [allocation_entry(account, "2025-03", "-1", service="EC2") for account in numbered_accounts(19)]
    text = json.dumps({"creditAllocationHistoryList": good}).replace(
        '"currencyAmount": "-1"', '"currencyAmount": NaN', 1
    )
    credit_file = read_bytes(text.encode())
    assert credit_file.skipped_total == 1
    assert credit_file.skipped[0].line == 1
    assert credit_file.line_unit == "record"


def test_an_entry_in_another_currency_is_rejected_unless_configured():
    entry = {
        "accountId": "073933415963",
        "billingMonth": "2025-03",
        "creditAmount": {"currencyAmount": "-5", "currencyCode": "EUR"},
        "creditId": "9",
        "appliedServiceName": "EC2",
    }
    assert "EUR" in str(rejected_bytes(json.dumps([entry]).encode()))


@pytest.mark.parametrize(
    "data",
    [
        b"[" * 100_000 + b"]" * 100_000,  # nothing but nesting
        b'[{"accountId": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_000 + b"}]",  # deep inside a record
    ],
    ids=["outside-records", "inside-a-record"],
)
def test_json_nested_absurdly_deep_is_rejected_clearly(data):
    assert "nested deeper than 64" in str(rejected_bytes(data))


def test_a_json_record_of_absurd_size_is_rejected_clearly():
    entry = {"accountId": "073933415963", "billingMonth": "2025-03", "note": ["x"] * 300_000}
    assert "a record longer than" in str(rejected_bytes(json.dumps([entry]).encode()))


def test_a_page_whose_own_values_are_of_absurd_size_is_rejected_clearly():
    huge = page(None) | {"note": "x" * (1 << 20)}
    assert "a page whose own values are longer than" in str(rejected_bytes(json.dumps(huge).encode()))
