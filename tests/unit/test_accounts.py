"""AWS account ids: read as text, padded to twelve digits, never guessed."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credits_pipeline.domain.accounts import InvalidAccountId, normalise_account_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("073933415963", "073933415963"),
        ("73933415963", "073933415963"),  # a spreadsheet dropped the leading zero
        ("'073933415963", "073933415963"),  # Excel's text marker
        ("0098-7654-3210", "009876543210"),
        ("0098 7654 3210", "009876543210"),
        ("  062951470133\t", "062951470133"),
        ("1234", "000000001234"),
        ("0", "000000000000"),
        ("112233445566.0", "112233445566"),  # written as a float, no digit lost
        ("0098\u00a07654\u00a03210", "009876543210"),
    ],
)
def test_account_ids_are_padded_to_twelve_digits(text, expected):
    assert normalise_account_id(text) == expected


@pytest.mark.parametrize("text", ["1.12233E+11", "1.12233e+11", "1E11", "1.12233E11"])
def test_scientific_notation_is_rejected_because_digits_were_lost(text):
    with pytest.raises(InvalidAccountId, match="scientific"):
        normalise_account_id(text)


@pytest.mark.parametrize(
    "text",
    [
        "1234567890123",  # 13 digits
        "9999999999999999",
        "abc",
        "12ab34",
        "",
        "   ",
        "'",
        "12.5",
        "١٢٣٤٥٦٧٨٩٠١٢",  # Arabic-Indic digits are not an AWS account id
        "+123",
    ],
)
def test_ids_that_are_not_aws_accounts_are_rejected(text):
    with pytest.raises(InvalidAccountId):
        normalise_account_id(text)


def test_invalid_account_id_is_a_value_error():
    assert issubclass(InvalidAccountId, ValueError)


@st.composite
def written_ids(draw: st.DrawFn) -> tuple[str, str]:
    """(text, expected): an id rendered with or without leading zeros, separators, apostrophe."""
    number = draw(st.integers(0, 999_999_999_999))
    expected = f"{number:012d}"  # independent: Python's own zero padding
    digits = str(number)
    width = draw(st.integers(len(digits), 12))
    digits = digits.zfill(width)
    pieces = [digits[0]]
    for digit in digits[1:]:
        pieces.append(draw(st.sampled_from(["", "", "", "-", " "])))
        pieces.append(digit)
    text = "".join(pieces)
    if draw(st.booleans()):
        text = "'" + text
    text = draw(st.sampled_from(["", " ", "\t"])) + text + draw(st.sampled_from(["", " ", "\t"]))
    return text, expected


@settings(max_examples=300)
@given(written_ids())
def test_any_rendering_of_an_id_normalises_to_its_twelve_digits(case):
    text, expected = case
    assert normalise_account_id(text) == expected


@settings(max_examples=100)
@given(st.integers(10**12, 10**20))
def test_more_than_twelve_digits_is_always_rejected(number):
    with pytest.raises(InvalidAccountId):
        normalise_account_id(str(number))
