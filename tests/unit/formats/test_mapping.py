"""Column mappings as configuration: a new shape without a code change, validated with clear messages."""

import json
from decimal import Decimal

import pytest

from credits_pipeline.formats import InvalidColumnMapping, validate_column_mappings
from tests.unit.formats.helpers import credits_of, fixture, read_bytes, read_fixture, rejected_fixture

ACME = tuple(json.loads(fixture("mapping/acme-mapping.json").read_text()))


def mapping(**changes: object) -> dict[str, object]:
    base = {
        "id": "acme-sheet/1",
        "columns": {"account": "Acct No", "month": "Period", "amount": "Credit USD"},
        "sign": "magnitude",
    }
    return base | changes


def test_without_the_mapping_the_shape_is_unknown():
    assert "unknown file shape" in str(rejected_fixture("mapping/acme-credits.csv"))


def test_a_configured_mapping_reads_the_file_with_its_id_and_row_types():
    credit_file = read_fixture("mapping/acme-credits.csv", column_mappings=ACME)
    assert credit_file.format_id == "acme-sheet/1"
    assert credits_of(credit_file, "2025-04") == {
        ("123456789012", "EC2", "Activate"): Decimal("-40.00"),
        ("210987654321", "RDS", "MAP"): Decimal("-60.00"),
    }
    assert credit_file.ignored_by_type == {"Fee": 1}


def test_a_matching_mapping_wins_over_a_built_in_format():
    data = b"Account ID,Month,Amount\n123456789012,2024-09,-5\n123456789012,2024-09,2\n"
    assert read_bytes(data).format_id == "sheet-long/1"
    signed = mapping(columns={"account": "Account ID", "month": "Month", "amount": "Amount"}, sign="signed")
    credit_file = read_bytes(data, column_mappings=(signed,))
    assert credit_file.format_id == "acme-sheet/1"
    assert credit_file.total == Decimal("-3")  # signed: the +2 is a reversal


def test_a_mapping_without_a_month_takes_it_from_the_name():
    no_month = mapping(columns={"account": "Acct No", "amount": "Credit USD"}, currency="USD")
    credit_file = read_bytes(
        b"Acct No,Credit USD\n123456789012,5\n", name="incoming/acme-2025-06.csv", column_mappings=(no_month,)
    )
    assert list(credit_file.months) == ["2025-06"]
    assert credit_file.currency == "USD"


def test_a_mapping_can_collapse_duplicates():
    collapse = mapping(duplicates="collapse")
    data = b"Acct No,Period,Credit USD\n123456789012,2025-04,5\n123456789012,2025-04,5\n"
    credit_file = read_bytes(data, column_mappings=(collapse,))
    assert credit_file.total == Decimal("-5")
    assert credit_file.skipped_by_reason == {"duplicate": 1}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (mapping(sign="backwards"), "sign"),
        ({k: v for k, v in mapping().items() if k != "sign"}, "sign: Field required"),
        (mapping(id="Acme Sheet"), "id"),
        (mapping(id="aws-cur/1"), "built-in"),
        (mapping(columns={"account": "A", "month": "M"}), "columns.amount"),
        (mapping(columns={"account": "A", "amount": "A"}), "same column"),
        (mapping(colums={}), "colums"),
        (mapping(row_type={"column": "Type", "credit_values": []}), "credit_values"),
        (mapping(currency="dollars"), "currency"),
    ],
)
def test_a_bad_mapping_is_rejected_with_a_message_naming_mapping_and_field(bad, message):
    with pytest.raises(InvalidColumnMapping) as caught:
        validate_column_mappings([bad])
    assert message in str(caught.value)
    assert "column mapping #1" in str(caught.value)


def test_a_bad_mapping_stops_reading_as_a_configuration_error_not_a_file_rejection():
    with pytest.raises(InvalidColumnMapping):
        read_bytes(b"123456789012,5\n", column_mappings=(mapping(sign="?"),))


def test_two_mappings_with_one_id_and_a_non_list_are_rejected():
    with pytest.raises(InvalidColumnMapping, match="two mappings"):
        validate_column_mappings([mapping(), mapping()])
    with pytest.raises(InvalidColumnMapping, match="list of objects"):
        validate_column_mappings("not a list")


def test_validate_accepts_one_object_or_a_list_and_returns_the_config_tuple():
    assert validate_column_mappings(mapping()) == (mapping(),)
    assert validate_column_mappings(list(ACME)) == ACME
