"""Detection from content, never from the name: containers, encodings, delimiters, header signatures."""

import gzip
import io
import json
import zipfile
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from credits_pipeline.formats import ParseConfig, detect_format, read_credit_file
from credits_pipeline.formats.registry import BUILTIN_IDS, format_ids
from testdata.allocation import allocation_entry
from tests.unit.formats.helpers import (
    credits_of,
    fixture,
    read_bytes,
    read_fixture,
    rejected_bytes,
    rejected_fixture,
    totals,
)

CUR_TOTAL = {"2024-09": Decimal("-88.0193909012345")}


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_every_issue_format_is_registered_with_an_id_and_a_version():
    expected = {
        "headerless/1",
        "headerless-wide/1",
        "aws-cur/1",
        "aws-cur-athena/1",
        "aws-cur/2",
        "focus/0.5",
        "focus/1.0",
        "focus/1.1",
        "focus/1.2",
        "focus/1.3",
        "focus/1.4",
        "aws-credit-allocation/1",
        "aws-billing-csv/1",
        "aws-cost-explorer-csv/1",
        "aws-cost-explorer-api/1",
        "sheet-long/1",
        "sheet-wide/1",
    }
    assert expected == BUILTIN_IDS
    assert all("/" in format_id for format_id in format_ids())


@pytest.mark.parametrize(
    "relative",
    [
        "cur-legacy/cur-2024-09.csv",
        "cur-legacy/cur-2024-09.csv.gz",
        "cur-legacy/cur-2024-09.zip",
        "cur-legacy/cur-2024-09-multipart.zip",
        "cur-legacy/cur-2024-09-crlf-bom.csv",
    ],
)
def test_a_cur_reads_the_same_plain_gzip_zip_multipart_and_with_bom_crlf(relative):
    credit_file = read_fixture(relative)
    assert credit_file.format_id == "aws-cur/1"
    assert totals(credit_file) == CUR_TOTAL
    assert credit_file.credit_rows == 9
    assert credit_file.ignored_rows == 6


def test_the_layout_says_how_the_bytes_were_unwrapped():
    assert read_fixture("cur-legacy/cur-2024-09.csv.gz").layout.startswith("gzip > csv")
    assert read_fixture("cur-legacy/cur-2024-09.zip").layout.startswith("zip > csv")
    assert read_fixture("cur-legacy/cur-2024-09-multipart.zip").layout.startswith("zip of 2 parts > gzip > csv")
    crlf = read_fixture("cur-legacy/cur-2024-09-crlf-bom.csv").layout
    assert "UTF-8 with BOM" in crlf
    assert "CRLF" in crlf
    assert read_fixture("cur2/cur2-2025-01.parquet").layout == "parquet"
    assert read_fixture("allocation/credit-allocation.json").layout == "json"


def test_the_file_name_does_not_decide_the_format():
    data = fixture("cur-legacy/cur-2024-09.csv.gz").read_bytes()
    credit_file = read_bytes(data, name="incoming/credits-2026-01.csv")  # a misleading name
    assert credit_file.format_id == "aws-cur/1"
    assert totals(credit_file) == CUR_TOTAL


def test_multipart_line_numbers_continue_across_parts_in_name_order():
    # Parts are stored 00002 first; read in name order, part 1's rows come first.
    credit_file = read_fixture("cur-legacy/cur-2024-09-multipart.zip")
    plain = read_fixture("cur-legacy/cur-2024-09.csv")
    first_lines = sorted(line for month in credit_file.months.values() for c in month.credits for line in c.lines)
    plain_lines = sorted(line for month in plain.months.values() for c in month.credits for line in c.lines)
    assert first_lines[:4] == plain_lines[:4]  # part 1 is lines 2..8, exactly as in the single file


def test_zip_parts_with_different_headers_are_rejected():
    data = zipped({"a.csv": b"Account ID,Month,Amount\n123456789012,2024-09,1\n", "b.csv": b"x,y\n1,2\n"})
    assert "header" in str(rejected_bytes(data))


def test_a_file_zipped_with_its_copy_is_rejected_not_counted_twice():
    data = zipped({"credits.csv": b"111122223333,100\n", "credits (1).csv": b"111122223333,100\n"})
    rejection = rejected_bytes(data, name="incoming/credits-2026-01.zip")
    assert str(rejection) == (
        "credits (1).csv and credits.csv in the zip are the same file twice (identical bytes): "
        "reading both would count its credits twice; upload it once"
    )


def test_two_monthly_files_in_one_zip_are_rejected_not_both_read_as_the_zips_month():
    data = zipped({"credits-2025-12.csv": b"111122223333,100\n", "credits-2026-01.csv": b"444455556666,50\n"})
    rejection = rejected_bytes(data, name="incoming/credits-2026-01.zip")
    assert str(rejection) == (
        "the zip holds 2 separate files (credits-2025-12.csv, credits-2026-01.csv): a zip is read as one file "
        "only when it holds the parts of one CUR, CUR 2.0 or FOCUS export (each part with the same header) "
        "or the saved pages of one Cost Explorer API response; upload each file on its own"
    )


def test_a_zip_whose_one_file_names_another_month_is_rejected_naming_both():
    data = zipped({"credits-2026-02.csv": b"111122223333,$100.00\n"})
    rejection = rejected_bytes(data, name="incoming/credits-2026-01.zip")
    assert str(rejection) == (
        "the zip's name (incoming/credits-2026-01.zip) names 2026-01, the file inside it (credits-2026-02.csv) "
        "names 2026-02: which month its credits are for is unclear; upload the file itself, or a zip named for "
        "the same month as the file inside"
    )
    for inner in ("credits.csv", "credits-2026-01.csv", "2026-01/credits.csv"):
        credit_file = read_bytes(zipped({inner: b"111122223333,$100.00\n"}), name="incoming/credits-2026-01.zip")
        assert totals(credit_file) == {"2026-01": Decimal("-100.00")}


@pytest.mark.parametrize("zip_name", ["incoming/2024-10/cur.zip", "incoming/cur-download-2024-10-03.zip"])
def test_a_zip_of_a_file_whose_rows_carry_their_month_is_read_whatever_month_the_zips_name_has(zip_name):
    # The CUR's rows say 2024-09 (its billing period): the zip's name plays no part in the month.
    data = zipped({"cur-2024-09.csv": fixture("cur-legacy/cur-2024-09.csv").read_bytes()})
    assert totals(read_bytes(data, name=zip_name)) == CUR_TOTAL
    sheet = b"Account ID,Month,Amount\n111122223333,2026-02,100.00\n"
    assert totals(read_bytes(zipped({"credits-2026-02.csv": sheet}), name="incoming/credits-2026-01.zip")) == {
        "2026-02": Decimal("-100.00")
    }
    # A sheet with no month column takes its month from the name: the zip's and its file's still must agree.
    for sheet in (b"Account ID,Amount\n111122223333,100.00\n", b"Account ID,Credit Name,Amount\n111122223333,x,100\n"):
        rejection = rejected_bytes(zipped({"credits-2026-02.csv": sheet}), name="incoming/credits-2026-01.zip")
        assert "which month its credits are for is unclear" in str(rejection)


def test_a_cost_explorer_response_saved_page_by_page_in_a_zip_is_read_as_one_response():
    def page(account: str, amount: str, token: str | None) -> bytes:
        group = {"Keys": [account], "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}}}
        period = {"Start": "2025-03-01", "End": "2025-04-01"}
        result = {"TimePeriod": period, "Total": {}, "Groups": [group], "Estimated": False}
        body = {"GroupDefinitions": [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}], "ResultsByTime": [result]}
        return json.dumps(body | ({"NextPageToken": token} if token else {})).encode()

    data = zipped({"page-1.json": page("123456789012", "-10", "T1"), "page-2.json": page("210987654321", "-5", None)})
    assert totals(read_bytes(data, name="incoming/ce-2025-03.zip")) == {"2025-03": Decimal("-15")}


def test_allocation_files_in_one_zip_are_rejected_since_nothing_tells_pages_from_overlapping_files():
    # A list saved compact and again indented: no page check can see it, and its credits would count twice.
    entries = [allocation_entry("123456789012", "2025-03", "-10", service="EC2")]
    data = zipped({"a.json": json.dumps(entries).encode(), "b.json": json.dumps(entries, indent=2).encode()})
    assert "the zip holds 2 separate files (a.json, b.json)" in str(rejected_bytes(data))


def test_two_hand_made_sheets_in_one_zip_are_rejected():
    sheet = b"Account ID,Month,Amount\n"
    data = zipped({"a.csv": sheet + b"111122223333,2025-12,100\n", "b.csv": sheet + b"444455556666,2026-01,50\n"})
    assert "the zip holds 2 separate files (a.csv, b.csv)" in str(rejected_bytes(data))


def test_a_cur_part_zipped_twice_is_rejected_not_counted_twice():
    part = fixture("cur-legacy/cur-2024-09.csv").read_bytes()
    rejection = rejected_bytes(zipped({"cur-00001.csv": part, "cur-00002.csv": part}))
    assert "cur-00001.csv and cur-00002.csv in the zip are the same file twice" in str(rejection)


def test_two_deliveries_of_one_cur_period_in_a_zip_are_rejected_not_summed():
    header, *rows = fixture("cur-legacy/cur-2024-09.csv").read_bytes().splitlines(keepends=True)
    first, restated = header + b"".join(rows), header + b"".join(rows[:-1])  # AWS restated the period
    period = "cur/report/20240901-20241001"
    data = zipped({f"{period}/assembly-a/report-1.csv": first, f"{period}/assembly-b/report-1.csv": restated})
    rejection = rejected_bytes(data, name="incoming/cur-2024-09.zip")
    assert (
        "report-1.csv is in the zip twice, from two deliveries of period 20240901-20241001 "
        f"({period}/assembly-a/report-1.csv, {period}/assembly-b/report-1.csv): read together, its credits "
        "would count twice"
    ) in str(rejection)


def test_two_deliveries_of_one_period_saved_in_folders_named_by_month_are_still_two_deliveries():
    header, *rows = fixture("cur-legacy/cur-2024-09.csv").read_bytes().splitlines(keepends=True)
    period = "cur/report/20240901-20241001"
    data = zipped(
        {
            f"2024-10/{period}/assembly-a/report-1.csv": header + b"".join(rows),
            f"2024-11/{period}/assembly-b/report-1.csv": header + b"".join(rows[:-1]),
        }
    )
    assert "report-1.csv is in the zip twice, from two deliveries of period 20240901-20241001" in str(
        rejected_bytes(data, name="incoming/cur-2024-09.zip")
    )


def test_a_cur_for_athena_of_two_months_in_a_zip_reads_each_month():
    november = pq.read_table(fixture("cur-athena/cur-2024-11.parquet"))
    rows = november.to_pylist()
    for row in rows:  # the same credits a month later
        for name, value in row.items():
            if isinstance(value, str):
                row[name] = value.replace("2024-12", "2025-01").replace("2024-11", "2024-12")
    december = pa.Table.from_pylist(rows, schema=november.schema)
    parts = {}
    for month, table in (("11", november), ("12", december)):
        written = io.BytesIO()
        pq.write_table(table, written)
        parts[f"cur/report/report/year=2024/month={month}/report-00001.snappy.parquet"] = written.getvalue()
    alone = totals(read_fixture("cur-athena/cur-2024-11.parquet"))["2024-11"]
    assert totals(read_bytes(zipped(parts), name="incoming/cur.zip")) == {"2024-11": alone, "2024-12": alone}


def test_an_export_of_two_periods_in_a_zip_reads_each_period_once():
    header, *rows = fixture("focus/focus-1.2.csv").read_bytes().splitlines(keepends=True)
    folder = "exports/focus/data/BILLING_PERIOD="
    first, second = header + b"".join(rows[:4]), header + b"".join(rows[4:])
    data = zipped({f"{folder}2025-01/focus-00001.csv": first, f"{folder}2025-02/focus-00001.csv": second})
    alone = read_bytes(header + b"".join(rows), name="incoming/focus.csv")
    assert totals(read_bytes(data, name="incoming/focus.zip")) == totals(alone)


@pytest.mark.parametrize("relative", ["focus/focus-1.2.csv", "focus/focus-0.5.csv"])
def test_a_focus_export_in_two_parts_reads_as_one_file(relative):
    header, *rows = fixture(relative).read_bytes().splitlines(keepends=True)
    data = zipped({"part-0.csv": header + b"".join(rows[:4]), "part-1.csv": header + b"".join(rows[4:])})
    credit_file = read_bytes(data, name="incoming/focus.zip")
    assert credits_of(credit_file, "2025-02") == {
        ("210987654321", "Amazon EC2", "AWS Activate Credits"): Decimal("-8.75"),  # part 0: -4.50 -5.50 +1.25
        ("310987654321", "Amazon S3", "AWS Promotional Credits"): Decimal("-0.123456789012"),  # part 1
    }


def test_zip_with_files_of_different_kinds_is_rejected():
    data = zipped({"a.csv": b"Account ID,Month,Amount\n123456789012,2024-09,1\n", "b.json": b'[{"a": 1}]'})
    assert "different kinds" in str(rejected_bytes(data))


def test_zip_skips_folders_mac_metadata_and_empty_members():
    data = zipped(
        {
            "__MACOSX/._credits.csv": b"\x00\x05\x16\x07",
            "empty.csv": b"",
            "dir/credits.csv": b"123456789012,$5.00\n",
        }
    )
    assert totals(read_bytes(data)) == {"2026-01": Decimal("-5.00")}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (zipped({}), "no file"),
        (gzip.compress(b""), "empty"),
        (zipped({"inner.zip": zipped({"a.csv": b"1,2\n"})}), "zip inside"),
        (b"\x1f\x8b\x08\x00garbage", "damaged"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "damaged"),
        (b"PAR1not really parquet", "Parquet"),
        (b"%PDF-1.7\n...", "PDF"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 20, "Excel 97"),
        (gzip.compress(fixture("headerless/credits-2026-01.csv").read_bytes())[:-12], "damaged"),
    ],
)
def test_broken_or_foreign_containers_are_rejected_with_a_reason(data, reason):
    assert reason.casefold() in str(rejected_bytes(data)).casefold()


def test_an_xlsx_workbook_is_refused_with_what_to_do():
    assert "save the sheet as CSV" in str(rejected_fixture("rejections/workbook.xlsx"))


def test_non_utf8_text_is_rejected_naming_the_line():
    error = rejected_fixture("rejections/latin1-2026-01.csv")
    assert "UTF-8" in str(error)
    assert error.line == 2


@pytest.mark.parametrize(("header", "line"), [(b"", 4000), (b"Account ID,Month,Amount\n", 4001)])
def test_a_byte_that_is_not_utf8_far_past_the_head_is_named_by_its_own_line(header, line):
    # The decoder reads ahead of the rows read: its error named a line some 60 to 120 rows earlier.
    month = b"2026-01," if header else b""
    rows = [b"%012d,%s$1.00\n" % (number, month) for number in range(1, 5001)]
    rows[3999] = rows[3999].replace(b"$1.00", b"$1.00 caf\xe9")  # the 4,000th row
    error = rejected_bytes(header + b"".join(rows))
    assert error.line == line
    assert "the file is not UTF-8 text (byte 0xe9): save it as CSV UTF-8" in str(error)


def test_utf16_text_with_a_bom_is_read():
    credit_file = read_fixture("sheets/long-utf16.txt")
    assert credit_file.format_id == "sheet-long/1"
    assert totals(credit_file) == {"2024-09": Decimal("-10.5")}
    assert "UTF-16" in credit_file.layout


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_the_delimiter_is_sniffed_from_the_header(delimiter):
    text = delimiter.join(["Account ID", "Month", "Amount", "Description"]) + "\n"
    text += delimiter.join(["123456789012", "2024-09", "10.50", "Activate, 2024"]) + "\n"
    if delimiter == ",":
        text = text.replace("Activate, 2024", '"Activate, 2024"')
    credit_file = read_bytes(text.encode())
    assert totals(credit_file) == {"2024-09": Decimal("-10.50")}
    assert credit_file.months["2024-09"].credits[0].description == "Activate, 2024"


def test_an_excel_sep_line_is_read_as_a_title_row():
    data = b"sep=;\nAccount ID;Month;Amount\n123456789012;2024-09;1,5\n"
    assert totals(read_bytes(data)) == {"2024-09": Decimal("-1.5")}


@pytest.mark.parametrize(
    "data",
    [
        b"123456789012;1.234E+3\n111122223333;100\n",
        b"Account ID;Month;Amount\n123456789012;2026-01;1.234E+3\n111122223333;2026-01;100\n",
        b'123456789012,"1,234E+3"\n111122223333,100\n',
    ],
)
def test_an_amount_in_scientific_notation_is_not_read_a_thousand_times_too_large(data: bytes) -> None:
    credits = read_bytes(data, name="incoming/credits-2026-01.csv").months["2026-01"].credits
    assert {credit.account_id: credit.cost for credit in credits} == {
        "123456789012": Decimal("-1234"),
        "111122223333": Decimal("-100"),
    }


def test_json_is_detected_from_content_whatever_its_name():
    data = fixture("allocation/credit-allocation.json").read_bytes()
    credit_file = read_bytes(data, name="incoming/credits.csv")
    assert credit_file.format_id == "aws-credit-allocation/1"


def test_an_unknown_shape_names_the_closest_format_and_its_missing_columns():
    error = rejected_fixture("rejections/unknown-shape.csv")
    message = str(error)
    assert "aws-cur/1" in message
    assert "lineItem/LineItemType" in message
    assert error.problems[0].startswith("closest: aws-cur/1")


def test_a_focus_like_file_missing_its_amount_names_focus():
    header = "SubAccountId,BillingPeriodStart,ChargeCategory,ChargeClass,ServiceName\n"
    error = rejected_bytes((header + "123456789012,2024-09-01,Credit,,EC2\n").encode())
    assert "focus/1.0" in str(error)
    assert "BilledCost" in str(error)


def test_a_header_no_format_knows_lists_the_known_formats():
    error = rejected_bytes(b"colour,shape\nred,round\n")
    assert "no known format" in str(error)
    assert "aws-cur/1" in error.problems[0]


@pytest.mark.parametrize(
    "header",
    [
        "Credit Name,Credit ID,Amount used,Amount remaining,Expiration date",
        "Account ID,Credit,Remaining Balance,Expires",
    ],
)
def test_a_credit_balance_list_is_rejected_as_such(header):
    error = rejected_bytes((header + "\nx,1,2,3,2026\n").encode())
    assert "credit balance list" in str(error)


@pytest.mark.parametrize(
    "column",
    [
        "Amount Remaining (USD)",
        "Amount remaining [USD]",
        "Remaining ($)",
        "Remaining Credit",
        "Remaining Credits (EUR)",
        "Credits Remaining",
        "Remaining Balance",
    ],
)
def test_a_balance_list_beside_an_amount_column_is_rejected_naming_its_column_and_line(column):
    # With an `Amount` column the file would otherwise read as a sheet: -100.00 sent for 2026-01.
    data = f"Account ID,Credit Name,Amount,{column},Expiration Date\n123456789012,Promo,100.00,50.00,2026-12-31\n"
    error = rejected_bytes(data.encode(), "incoming/credits-2026-01.csv")
    assert "credit balance list" in str(error)
    assert repr(column) in str(error)
    assert error.line == 1


@pytest.mark.parametrize(
    "text",
    [
        "Account ID,Credit Name,Credit Amount,Amount Used,Expiration Date\n111122223333,Activate,10000,2500,2027-06-30",
        "Account ID,Credit Name,Credit Amount,Expiration Date\n111122223333,Activate,10000.00,2027-06-30",
        "Account ID,Credit Name,Amount,Expires On\n111122223333,Activate,10000.00,2027-06-30",
        "Account ID,Credit Name,Credit Amount,Amount used\n111122223333,Activate,10000.00,2500.00",
    ],
)
def test_a_balance_list_with_expiry_dates_or_amounts_used_is_rejected_not_read_as_a_months_credits(text):
    # Read as a sheet, the credits' face values would go out as the credits applied in 2026-01.
    error = rejected_bytes(f"{text}\n".encode(), "incoming/credits-2026-01.csv")
    assert error.reason.startswith("this is a credit balance list (column ")
    assert "it says what credit is left, not what was applied in a month" in str(error)
    assert error.line == 1


@pytest.mark.parametrize(
    "header",
    [
        "Account ID,Month,Credit Name,Amount,Expiration Date",
        "Account ID,Billing Month,Credit Name,Amount,Expiry Date (UTC)",
        "Account ID,Invoice Month,Credit Name,Amount,Expires On",
        "Account ID,Month,Credit Name,Amount,Amount Used",
    ],
)
def test_credits_applied_with_an_expiry_or_amount_used_column_beside_a_month_are_read(header):
    # Beside a month column, an expiry date is a credit's detail: the amount is what the month applied.
    rows = "111122223333,2026-01,AWS Activate,100.00,2026-12-31\n111122223333,2026-02,AWS Activate,50,2026-12-31\n"
    data = f"{header}\n{rows}"
    credit_file = read_bytes(data.encode(), "incoming/credits.csv")
    assert credit_file.format_id == "sheet-long/1"
    assert totals(credit_file) == {"2026-01": Decimal("-100.00"), "2026-02": Decimal("-50")}


def test_a_mapped_month_column_makes_an_expiry_column_a_credits_detail():
    mapping = {
        "id": "my/credits",
        "columns": {"account": "Acct", "month": "Billing Cycle", "amount": "Applied"},
        "sign": "magnitude",
    }
    data = b"Acct,Billing Cycle,Applied,Expiration Date\n111122223333,2026-01,100.00,2026-12-31\n"
    credit_file = read_bytes(data, "incoming/credits.csv", column_mappings=(mapping,))
    assert credit_file.format_id == "my/credits"
    assert totals(credit_file) == {"2026-01": Decimal("-100.00")}
    # Without the mapping the file names no month the formats know: it is a balance list.
    assert "credit balance list" in str(rejected_bytes(data, "incoming/credits-2026-01.csv"))


@pytest.mark.parametrize("column", ["Amount", "Amount (USD)", "Credits Applied", "Credit Amount (USD)", "Credit"])
def test_credits_applied_columns_are_not_taken_for_a_balance(column):
    data = f"Account ID,Credit Name,{column},Program\n123456789012,Promo,100.00,Activate\n"
    assert totals(read_bytes(data.encode(), "incoming/credits-2026-01.csv")) == {"2026-01": Decimal("-100.00")}


@pytest.mark.parametrize("column", ["Balance", "Credit Balance"])
def test_a_balance_column_in_a_file_that_names_no_month_is_a_balance_list(column):
    data = f"Account ID,Credit Name,Amount,{column},Expiration Date\n123456789012,Activate,5000.00,4000.00,2026-12-31\n"
    assert "credit balance list" in str(rejected_bytes(data.encode(), "incoming/credits-2026-01.csv"))


@pytest.mark.parametrize("column", ["Balance", "Balance (USD)", "Credit Balance"])
def test_credits_applied_beside_a_running_balance_are_read(column):
    # Beside a month, "Balance" is what is left after each month's credit: only "remaining" names a balance list.
    data = f"Account ID,Month,Credit,{column}\n123456789012,2026-01,100.00,400.00\n123456789012,2026-02,50.00,350.00\n"
    assert totals(read_bytes(data.encode())) == {"2026-01": Decimal("-100.00"), "2026-02": Decimal("-50.00")}


def test_the_balance_list_fixture_and_its_json_form_are_rejected():
    # Its first columns are `Amount used` and `Amount remaining`: the rejection names what is left.
    assert "credit balance list (column 'Amount remaining')" in str(rejected_fixture("rejections/credit-balances.csv"))
    data = json.dumps({"credits": [{"creditName": "Activate", "amountRemaining": "4500", "expiration": "2026"}]})
    assert "balance" in str(rejected_bytes(data.encode()))


def test_json_without_records_and_broken_json_are_rejected():
    assert "no records" in str(rejected_bytes(b"[1, 2, 3]"))
    assert "JSON" in str(rejected_bytes(b'{"creditAllocationHistoryList": [{"accountId": "1"'))
    assert "JSON" in str(rejected_bytes(b'[{"a": 1}] trailing'))


def test_detect_format_returns_a_reader_with_its_id_before_reading():
    with fixture("focus/focus-1.3.csv").open("rb") as data:
        credit_format = detect_format(data, "x.csv", ParseConfig())
        assert credit_format.format_id == "focus/1.3"
        assert credit_format.duplicate_policy == "sum"
        assert credit_format.info.amount_column.startswith("BilledCost")


def test_the_stream_may_be_read_again_after_a_rejection_or_a_read():
    with fixture("cur-legacy/cur-2024-09.csv.gz").open("rb") as data:
        first = read_credit_file(data, "x", ParseConfig())
        second = read_credit_file(data, "x", ParseConfig())
    assert first.total == second.total


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"000000000001,$10.00\n", "a file of accounts and amounts takes its month from its name; "),
        (b"Account ID,Amount\n000000000001,10.00\n", ", and the file has no month column: "),
    ],
)
def test_a_file_whose_month_comes_from_its_name_named_for_none_says_how_to_name_it(data: bytes, why: str) -> None:
    rejection = str(rejected_bytes(data, name="incoming/credits.csv"))
    assert rejection.startswith("no YYYY-MM month")
    assert f"{why}upload it named for its month (e.g. credits-2026-01.csv)" in rejection
