"""The splitter -> pusher messages: exact money through JSON, strict validation, idempotency keys."""

import io
import json
import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from credits_pipeline.domain.messages import AccountCreditRow, FileRef, MonthBatch, MonthMessage
from credits_pipeline.formats import ParseConfig, read_credit_file

SHA = "0123456789abcdef" * 4
FILE = FileRef(bucket="uploads", key="incoming/credits-2026-01.csv", sha256=SHA, format="headerless/1")


def row(account: str = "073933415963", cost: str = "-6407.96", **extra) -> AccountCreditRow:
    return AccountCreditRow(
        account_id=account, cost=Decimal(cost), description="AWS credit", service="AWSCredits", **extra
    )


def message(**changes) -> MonthMessage:
    fields = {
        "file": FILE,
        "month": "2026-01",
        "batch_bucket": "batches",
        "batch_key": f"batches/{SHA}/2026-01.json",
        "accounts": 2,
        "total": Decimal("-6507.96"),
    }
    return MonthMessage(**(fields | changes))


@st.composite
def plain_amounts(draw: st.DrawFn) -> tuple[str, Decimal]:
    """(text, Decimal): an amount written by hand as a plain decimal string, up to 34 digits."""
    unscaled = draw(st.integers(-(10**34), 10**34))
    places = draw(st.integers(0, 20))
    digits = str(abs(unscaled)).rjust(places + 1, "0")
    text = digits if places == 0 else digits[:-places] + "." + digits[-places:]
    if unscaled < 0:
        text = "-" + text
    return text, Decimal(text)


@settings(max_examples=200)
@given(st.lists(st.tuples(st.integers(0, 999_999_999_999), plain_amounts()), min_size=1, max_size=20))
def test_batch_json_round_trip_keeps_every_digit_and_writes_plain_strings(items):
    batch = MonthBatch(
        file=FILE,
        month="2026-01",
        credits=[row(f"{number:012d}", text, lines=[index + 1]) for index, (number, (text, _)) in enumerate(items)],
    )
    written = batch.model_dump_json()
    assert [credit["cost"] for credit in json.loads(written)["credits"]] == [text for _, (text, _) in items]
    read = MonthBatch.model_validate_json(written)
    assert read == batch
    assert [credit.cost.as_tuple() for credit in read.credits] == [value.as_tuple() for _, (_, value) in items]


@pytest.mark.parametrize(
    ("cost", "written"),
    [
        ("-1.23456E3", "-1234.56"),
        ("-1E-7", "-0.0000001"),
        ("-1E+21", "-1000000000000000000000"),
        ("-0.000000000012345", "-0.000000000012345"),
    ],
)
def test_money_in_json_is_a_plain_decimal_string(cost, written):
    batch = MonthBatch(file=FILE, month="2026-01", credits=[row(cost=cost)])
    data = json.loads(batch.model_dump_json())
    assert data["credits"][0]["cost"] == written
    assert MonthBatch.model_validate_json(batch.model_dump_json()).credits[0].cost == Decimal(cost)


def test_batch_total_and_accounts():
    batch = MonthBatch(
        file=FILE,
        month="2026-01",
        credits=[row("073933415963", "-6407.96"), row("062951470133", "-100.04"), row("000000001234", "-0.01")],
    )
    assert batch.total == Decimal("-6508.01")
    assert batch.accounts == 3


def test_message_json_round_trip_keeps_the_total_exact_and_plain():
    sent = message(total=Decimal("-1.2345678901234567890123456789E+3"), replay_id="r-1")
    written = sent.model_dump_json()
    assert json.loads(written)["total"] == "-1234.5678901234567890123456789"
    assert MonthMessage.model_validate_json(written) == sent


def test_redelivery_of_the_same_message_has_the_same_idempotency_key():
    assert message().idempotency_key == MonthMessage.model_validate_json(message().model_dump_json()).idempotency_key


def test_idempotency_key_differs_by_month_file_and_replay():
    base = message().idempotency_key
    other_file = FileRef(bucket="uploads", key="incoming/credits-2026-01.csv", sha256="f" * 64)
    keys = {
        base,
        message(month="2026-02").idempotency_key,
        message(file=other_file).idempotency_key,
        message(replay_id="replay-1").idempotency_key,
        message(replay_id="replay-2").idempotency_key,
    }
    assert len(keys) == 5


def test_idempotency_key_names_the_file_hash_and_month():
    key = message().idempotency_key
    assert SHA in key
    assert "2026-01" in key


@pytest.mark.parametrize(
    "account",
    ["73933415963", "0739334159631", "07393341596a", "0739-3341-59", "١٢٣٤٥٦٧٨٩٠١٢", "073933415963\n"],
)
def test_batch_refuses_an_account_id_that_is_not_twelve_ascii_digits(account):
    with pytest.raises(ValidationError):
        row(account)


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "2026-1", "202601", "٢٠٢٦-01", "2026-01-01"])
def test_batch_and_message_refuse_a_malformed_month(month):
    with pytest.raises(ValidationError):
        MonthBatch(file=FILE, month=month, credits=[row()])
    with pytest.raises(ValidationError):
        message(month=month)


@pytest.mark.parametrize("sha", ["abc", "A" * 64, "g" * 64, "0" * 63])
def test_file_ref_refuses_a_malformed_sha256(sha):
    with pytest.raises(ValidationError):
        FileRef(bucket="b", key="k", sha256=sha)


def test_a_schema_version_the_pusher_does_not_know_is_refused():
    data = json.loads(MonthBatch(file=FILE, month="2026-01", credits=[row()]).model_dump_json())
    data["schema_version"] = 2  # a version-2 batch is a manifest, not a MonthBatch
    with pytest.raises(ValidationError):
        MonthBatch.model_validate_json(json.dumps(data))
    message_data = json.loads(message().model_dump_json()) | {"schema_version": 3}
    with pytest.raises(ValidationError):
        MonthMessage.model_validate_json(json.dumps(message_data))


def test_batch_from_a_read_credit_file_keeps_accounts_costs_and_lines():
    data = b'073933415963,"$6,407.96"\n62951470133,-$100.00\n073933415963,"$6,407.96"\n'
    credit_file = read_credit_file(io.BytesIO(data), "incoming/credits-2026-01.csv", ParseConfig())
    batch = MonthBatch.from_month_credits(FILE, credit_file.months["2026-01"])
    assert batch.month == "2026-01"
    assert {(c.account_id, c.cost) for c in batch.credits} == {
        ("073933415963", Decimal("-6407.96")),
        ("062951470133", Decimal("-100.00")),
    }
    assert batch.total == Decimal("-6507.96")
    assert batch.accounts == 2
    lines = {c.account_id: c.lines for c in batch.credits}
    assert lines["062951470133"] == [2]
    assert lines["073933415963"][0] == 1
    assert re.fullmatch(r"[0-9a-f]{64}", batch.file.sha256)
