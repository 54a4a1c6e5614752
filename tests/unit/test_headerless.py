"""The headerless `account,amount` file, through the one public entry point `read_credit_file`."""

import io
import re
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credits_pipeline.formats import FileRejected, ParseConfig, read_credit_file
from testdata.headerless import same_amount_csv
from tests.amounts import group_thousands

KEY = "incoming/credits-2026-01.csv"
MONTH = "2026-01"


def read(data: bytes, key: str = KEY, **config):
    return read_credit_file(io.BytesIO(data), key, ParseConfig(**config))


def costs(credit_file, month: str = MONTH) -> dict[str, Decimal]:
    return {credit.account_id: credit.cost for credit in credit_file.months[month].credits}


def rejected(data: bytes, key: str = KEY, **config) -> FileRejected:
    with pytest.raises(FileRejected) as caught:
        read(data, key, **config)
    return caught.value


def valid_rows(count: int, start: int = 100) -> bytes:
    return same_amount_csv(count, start)


# --- the file as the monthly process writes it ---------------------------------------------------


def test_the_real_monthly_file_becomes_negative_credits_for_its_month():
    data = (
        b'073933415963,"$6,407.96"\n'
        b"062951470133,$0.00\n"
        b'111122223333,"$116,319.27"\n'
        b"222233334444,$ -\n"
        b"333344445555,-$100.00\n"
        b'444455556666,"$1,234.56"\n'
    )
    credit_file = read(data)
    assert credit_file.format_id.startswith("headerless")
    assert list(credit_file.months) == [MONTH]
    assert costs(credit_file) == {
        "073933415963": Decimal("-6407.96"),
        "111122223333": Decimal("-116319.27"),
        "333344445555": Decimal("-100.00"),
        "444455556666": Decimal("-1234.56"),
    }
    month = credit_file.months[MONTH]
    assert month.total == Decimal("-124061.79")  # 6407.96 + 116319.27 + 100 + 1234.56, by hand
    assert month.accounts == 4
    assert credit_file.total == Decimal("-124061.79")
    assert all(credit.month == MONTH for credit in month.credits)
    assert {credit.service for credit in month.credits} == {"AWSCredits"}


def test_each_credit_names_the_line_it_came_from():
    credit_file = read(b"073933415963,$5.00\n062951470133,$7.00\n")
    lines = {credit.account_id: credit.lines for credit in credit_file.months[MONTH].credits}
    assert lines == {"073933415963": (1,), "062951470133": (2,)}


@pytest.mark.parametrize(
    ("amount", "magnitude"),
    [
        (b"$100.00", "100.00"),
        (b"-$100.00", "100.00"),
        (b"$-100.00", "100.00"),
        (b"100", "100"),
        (b'"$6,407.96"', "6407.96"),
        (b'"-$6,407.96"', "6407.96"),
        (b"(3.50)", "3.50"),
        (b'"$ (1,234.56)"', "1234.56"),  # accounting style negative
        (b"0.0000012345", "0.0000012345"),
    ],
)
def test_amounts_are_credit_magnitudes_sent_as_negative_costs(amount, magnitude):
    credit_file = read(b"073933415963," + amount + b"\n")
    assert costs(credit_file) == {"073933415963": -Decimal(magnitude)}


@pytest.mark.parametrize(
    ("written", "padded"),
    [
        (b"73933415963", "073933415963"),
        (b"1234", "000000001234"),
        (b"'073933415963", "073933415963"),
        (b"0739-3341-5963", "073933415963"),
        (b'" 073933415963 "', "073933415963"),
    ],
)
def test_account_ids_are_padded_to_twelve_digits(written, padded):
    credit_file = read(written + b",$10.00\n")
    assert costs(credit_file) == {padded: Decimal("-10.00")}


def test_crlf_bom_blank_lines_and_no_final_newline_are_read():
    data = b'\xef\xbb\xbf073933415963,$1.00\r\n\r\n062951470133,"$2,000.00"\r\n111122223333,$3.00'
    credit_file = read(data)
    assert costs(credit_file) == {
        "073933415963": Decimal("-1.00"),
        "062951470133": Decimal("-2000.00"),
        "111122223333": Decimal("-3.00"),
    }
    assert credit_file.skipped_total == 0


@pytest.mark.parametrize("ids", ["short", "full"])
def test_a_tab_delimited_file_whose_amounts_group_thousands_with_commas_is_read_by_its_tabs(ids):
    # One comma and one tab a line: read at the comma, `12345678901\t1` became account 123456789011 and
    # `234.56` its amount (full ids: rejected as over 12 digits).
    first, second = ("12345678901", "98765432109") if ids == "short" else ("112345678901", "198765432109")
    credit_file = read(f"{first}\t1,234.56\n{second}\t2,000.00\n".encode())
    assert costs(credit_file) == {first.zfill(12): Decimal("-1234.56"), second.zfill(12): Decimal("-2000.00")}
    assert credit_file.skipped_total == 0


def test_the_month_comes_from_the_object_key():
    credit_file = read(b"073933415963,$1.00\n", key="incoming/credits-2025-11.csv")
    assert list(credit_file.months) == ["2025-11"]
    assert credit_file.months["2025-11"].credits[0].month == "2025-11"


# --- duplicates and conflicts --------------------------------------------------------------------


def test_identical_duplicate_rows_are_sent_once_and_reported():
    data = b'073933415963,"$6,407.96"\n062951470133,$5.00\n073933415963,"$6,407.96"\n'
    credit_file = read(data)
    assert costs(credit_file) == {"073933415963": Decimal("-6407.96"), "062951470133": Decimal("-5.00")}
    assert credit_file.months[MONTH].total == Decimal("-6412.96")
    assert credit_file.skipped_total == 1
    (skip,) = credit_file.skipped
    assert (skip.line, skip.account_id, skip.reason, skip.category) == (
        3,
        "073933415963",
        "duplicate of line 1",
        "duplicate",
    )


def test_the_same_account_written_with_and_without_its_leading_zero_is_one_account():
    credit_file = read(b"073933415963,$5.00\n73933415963,$5.00\n")
    assert costs(credit_file) == {"073933415963": Decimal("-5.00")}
    assert [(s.line, s.reason) for s in credit_file.skipped] == [(2, "duplicate of line 1")]


def test_one_account_with_two_different_amounts_rejects_the_file_naming_both_lines():
    data = b"073933415963,$100.00\n062951470133,$5.00\n111122223333,$6.00\n073933415963,$200.00\n"
    error = rejected(data)
    message = str(error)
    assert "073933415963" in message
    assert re.search(r"\bline 1\b", message), message
    assert re.search(r"\bline 4\b", message), message


# --- rows left out -------------------------------------------------------------------------------


def test_zero_amounts_are_skipped_as_zero_amount():
    data = b"073933415963,$5.00\n062951470133,$0.00\n111122223333,$ -\n222233334444,0\n"
    credit_file = read(data)
    assert costs(credit_file) == {"073933415963": Decimal("-5.00")}
    assert sorted((s.line, s.account_id, s.reason, s.category) for s in credit_file.skipped) == [
        (2, "062951470133", "zero amount", "zero"),
        (3, "111122223333", "zero amount", "zero"),
        (4, "222233334444", "zero amount", "zero"),
    ]
    assert credit_file.skipped_total == 3


def test_invalid_ids_and_amounts_are_skipped_with_their_line_numbers():
    data = (
        valid_rows(30)  # lines 1..30
        + b"1.12233E+11,$5.00\n"  # 31: scientific notation lost digits
        + b"1234567890123,$5.00\n"  # 32: 13 digits
        + b"\n"  # 33: blank
        + b"073933415963,twelve dollars\n"  # 34: not an amount
    )
    credit_file = read(data)
    assert credit_file.months[MONTH].accounts == 30
    assert credit_file.months[MONTH].total == Decimal("-30.00")
    invalid = {s.line: s for s in credit_file.skipped}
    assert sorted(invalid) == [31, 32, 34]
    assert {s.category for s in invalid.values()} == {"invalid"}
    assert "scientific" in invalid[31].reason
    assert all(s.reason for s in invalid.values())
    assert credit_file.skipped_total == 3


def test_a_file_with_too_many_invalid_rows_is_rejected_whole():
    data = valid_rows(6) + b"abc,$1.00\nxyz,$2.00\n1.1E+11,$3.00\n073933415963,lots\n"
    error = rejected(data, max_invalid_share=Decimal("0.10"))
    assert "invalid" in str(error).lower()


def test_a_few_invalid_rows_under_the_share_do_not_reject_the_file():
    data = valid_rows(19) + b"abc,$1.00\n"
    credit_file = read(data, max_invalid_share=Decimal("0.10"))
    assert credit_file.months[MONTH].accounts == 19
    assert [(s.line, s.category) for s in credit_file.skipped] == [(20, "invalid")]


def test_the_invalid_share_is_configuration():
    data = valid_rows(19) + b"abc,$1.00\n"
    assert "invalid" in str(rejected(data, max_invalid_share=Decimal("0"))).lower()


def test_a_file_where_every_row_is_zero_is_rejected():
    rejected(b"073933415963,$0.00\n062951470133,$ -\n")


# --- files that are not credit files -------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"   \n\r\n", b"\xef\xbb\xbf", b"\n\n\n"])
def test_an_empty_file_is_rejected_as_empty(data):
    assert "empty" in str(rejected(data)).lower()


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00",
        bytes(range(256)),
    ],
)
def test_binary_content_is_rejected(data):
    error = rejected(data)
    assert re.search(r"binary|utf-8|text", str(error), re.IGNORECASE), str(error)


def test_text_that_is_not_utf8_is_rejected():
    error = rejected("073933415963,$5.00\nCrédit,5\n".encode("latin-1"))
    assert "utf-8" in str(error).lower()


def test_undecodable_bytes_far_into_the_file_reject_it_whole():
    # Past the first 64 KiB a detector looks at: the file must still not be half-sent.
    data = valid_rows(4000) + "999999999999,Crédit\n".encode("latin-1")
    assert len(data) > 65536
    assert "utf-8" in str(rejected(data)).lower()


@pytest.mark.parametrize("key", ["incoming/credits.csv", "incoming/credits-2025-12-to-2026-02.csv"])
def test_a_key_without_one_month_is_rejected_naming_the_month_problem(key):
    assert "month" in str(rejected(b"073933415963,$5.00\n", key=key)).lower()


def test_an_absurd_exponent_never_escapes_as_a_decimal_error():
    try:
        credit_file = read(valid_rows(20) + b"073933415963,1E+1000000\n")
    except FileRejected:
        return
    assert "073933415963" not in costs(credit_file)


def test_amounts_with_many_digits_are_kept_exactly():
    credit_file = read(b"073933415963,12345678901234567890.1234567890123\n")
    assert costs(credit_file) == {"073933415963": Decimal("-12345678901234567890.1234567890123")}


# --- properties ----------------------------------------------------------------------------------


@st.composite
def amount_cells(draw: st.DrawFn, cents: int) -> str:
    """A CSV cell for an amount of `cents`, in any of the ways the monthly files write it."""
    if cents == 0 and draw(st.booleans()):
        return draw(st.sampled_from(["$ -", "$0.00", "0", '"$ -"']))
    whole, fraction = divmod(cents, 100)
    thousands = whole >= 1000 and draw(st.booleans())
    number = group_thousands(str(whole)) if thousands else str(whole)
    if fraction or draw(st.booleans()):
        number += f".{fraction:02d}"
    dollar = draw(st.sampled_from(["", "$"]))
    sign = draw(st.sampled_from(["", "", "-", "()"]))
    if sign == "()":
        text = f"({dollar}{number})"
    elif sign == "-":
        text = draw(st.sampled_from([f"-{dollar}{number}", f"{dollar}-{number}"]))
    else:
        text = dollar + number
    return f'"{text}"' if thousands or draw(st.booleans()) else text


@st.composite
def account_cells(draw: st.DrawFn, number: int) -> str:
    text = draw(st.sampled_from([f"{number:012d}", str(number)]))
    if draw(st.booleans()):
        text = "'" + text
    return f'"{text}"' if draw(st.booleans()) else text


@st.composite
def headerless_files(draw: st.DrawFn) -> tuple[bytes, dict[str, int]]:
    """(file bytes, {account id: cents}) for distinct accounts."""
    numbers = draw(st.lists(st.integers(0, 999_999_999_999), min_size=1, max_size=30, unique=True))
    amounts = {f"{n:012d}": draw(st.integers(0, 10**11)) for n in numbers}
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    lines = [f"{draw(account_cells(n))},{draw(amount_cells(amounts[f'{n:012d}']))}" for n in numbers]
    text = newline.join(lines) + draw(st.sampled_from(["", newline]))
    bom = b"\xef\xbb\xbf" if draw(st.booleans()) else b""
    return bom + text.encode(), amounts


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(headerless_files())
def test_month_total_is_minus_the_sum_of_magnitudes_to_the_cent(case):
    data, amounts = case
    nonzero = {account: cents for account, cents in amounts.items() if cents}
    if not nonzero:
        rejected(data)
        return
    credit_file = read(data)
    expected = {account: -Decimal(cents).scaleb(-2) for account, cents in nonzero.items()}
    assert costs(credit_file) == expected
    assert credit_file.months[MONTH].total == -Decimal(sum(nonzero.values())).scaleb(-2)
    assert credit_file.months[MONTH].accounts == len(nonzero)
    assert sorted(s.account_id for s in credit_file.skipped if s.category == "zero") == sorted(
        account for account, cents in amounts.items() if cents == 0
    )


@settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.integers(0, 999_999_999_999), st.integers(1, 10**9), min_size=1, max_size=15),
    st.data(),
)
def test_repeated_identical_rows_never_change_the_total(amounts, data):
    lines = [f"{n:012d},${cents // 100}.{cents % 100:02d}" for n, cents in amounts.items()]
    repeats = data.draw(st.lists(st.integers(0, len(lines) - 1), max_size=10))
    text = "\n".join(lines + [lines[index] for index in repeats]) + "\n"
    credit_file = read(text.encode())
    assert credit_file.months[MONTH].total == -Decimal(sum(amounts.values())).scaleb(-2)
    duplicates = [(s.line, s.reason) for s in credit_file.skipped if s.category == "duplicate"]
    assert duplicates == [
        (len(lines) + offset + 1, f"duplicate of line {index + 1}") for offset, index in enumerate(repeats)
    ]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_are_read_or_rejected_never_a_crash(data):
    try:
        credit_file = read(data)
    except FileRejected as error:
        assert str(error)
    else:
        assert credit_file.months


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789,$-.'\"() \r\nE+é\t"), max_size=300))
def test_arbitrary_csv_like_text_is_read_or_rejected_never_a_crash(text):
    try:
        credit_file = read(text.encode())
    except FileRejected as error:
        assert str(error)
    else:
        assert all(credit.cost < 0 for month in credit_file.months.values() for credit in month.credits)
