"""Upload -> splitter -> SQS -> pusher -> CloudZero, as the ops team would see it."""

import hashlib
import re
import time
import uuid
from decimal import Decimal

import boto3
import pytest

from credits_pipeline.adapters.sqs import MonthQueue
from credits_pipeline.domain.messages import FileRef, MonthMessage
from local_stack.provision import LOCAL_API_KEY
from local_stack.stack import LocalPipeline, local_pipeline
from operator_commands.redrive import main as redrive_main
from operator_commands.redrive import redrive
from operator_commands.replay import ReplayError, replay_month
from operator_commands.replay import main as replay_main

from .conftest import held_total, only_report, queue_depth, report, tags

# credits-2026-01 in a form the ops team writes: quoted thousands, `$ -`, a duplicate, a lost id.
JANUARY = (
    b'073933415963,"$6,407.96"\r\n'
    b"062951470133,$0.00\r\n"
    b'118273645509,"$116,319.27"\r\n'
    b"204851736092,$ -\r\n"
    b"339182746501,-$100.00\r\n"
    b'073933415963,"$6,407.96"\r\n'
    b"451029384756,$1.05\r\n"
    b'562738495061,"$2,500.00"\r\n'
    b"673849506172,$312.40\r\n"
    b"784950617283,$88.88\r\n"
    b'895061728394,"$14,000.00"\r\n'
    b"1.12233E+11,$50.00\r\n"
    b"906172839405,$0.01\r\n"
)
# Worked out by hand: the nine non-zero, distinct, valid rows, as credits.
JANUARY_TOTAL = -(
    Decimal("6407.96")
    + Decimal("116319.27")
    + Decimal("100.00")
    + Decimal("1.05")
    + Decimal("2500.00")
    + Decimal("312.40")
    + Decimal("88.88")
    + Decimal("14000.00")
    + Decimal("0.01")
)


def february(extra: str = "") -> bytes:
    return f"000000000001,$10.00\n000000000002,$20.50\n{extra}".encode()


def sha(data: bytes, key: str) -> str:
    """What the report is filed under: the bytes' hash bound to the month the key names."""
    content = hashlib.sha256(data).hexdigest()
    month = re.findall(r"\d{4}-\d{2}", key.rsplit("/", 1)[-1])
    return hashlib.sha256(f"{content}|{','.join(month)}".encode()).hexdigest() if month else content


def post_count(pipeline: LocalPipeline) -> int:
    assert pipeline.emulator is not None
    return len([r for r in pipeline.emulator.requests if r.method == "POST" and "billing_drops" in r.path])


def test_an_upload_lands_in_cloudzero_as_one_drop_with_a_report(pipeline: LocalPipeline) -> None:
    key = pipeline.put("incoming/credits-2026-01.csv", JANUARY)
    pipeline.runner.run_until_idle()

    run = report(pipeline, sha(JANUARY, "credits-2026-01.csv"))
    assert pipeline.emulator is not None
    assert run["status"] == "pushed"
    assert run["file"] == {
        "bucket": pipeline.bucket,
        "key": key,
        "sha256": sha(JANUARY, key),
        "content_sha256": hashlib.sha256(JANUARY).hexdigest(),
        "format": "headerless/1",
    }
    january = run["months"]["2026-01"]
    assert (january["status"], january["accounts"], Decimal(january["total"])) == ("pushed", 9, JANUARY_TOTAL)
    assert january["drop_id"] == pipeline.emulator.drops(pipeline.connection_id)[-1].drop_id
    assert held_total(pipeline, "2026-01") == JANUARY_TOTAL  # total in == total out, to the cent
    assert [d.operation for d in pipeline.emulator.drops()] == ["replace_drop"]
    skipped = {(s["line"], s["reason"]) for s in run["skipped"]}
    assert (2, "zero amount") in skipped and (4, "zero amount") in skipped
    assert (6, "duplicate of line 1") in skipped
    assert any(line == 12 and "scientific notation" in reason for line, reason in skipped)
    assert [u["outcome"] for u in run["uploads"]] == ["accepted"]
    assert pipeline.emulator.concurrency_violations == []
    assert tags(pipeline, key)["credits-pipeline-status"] == "accepted"


def test_uploading_the_same_bytes_again_sends_nothing_and_says_duplicate(pipeline: LocalPipeline) -> None:
    pipeline.put("incoming/credits-2026-01.csv", JANUARY)
    pipeline.runner.run_until_idle()
    second = pipeline.put("incoming/credits-2026-01 (copy).csv", JANUARY)
    pipeline.runner.run_until_idle()

    run = report(pipeline, sha(JANUARY, "credits-2026-01.csv"))
    assert run["status"] == "duplicate"
    assert [u["outcome"] for u in run["uploads"]] == ["accepted", "duplicate"]
    assert run["months"]["2026-01"]["status"] == "pushed"
    assert post_count(pipeline) == 1
    assert held_total(pipeline, "2026-01") == JANUARY_TOTAL
    assert tags(pipeline, second)["credits-pipeline-status"] == "duplicate"


def test_a_chunk_that_gets_no_answer_is_followed_by_nothing_until_the_month_is_delivered_again(
    aws_endpoint: str,
) -> None:
    # CloudZero takes longer over a sum chunk than the pusher waits, and applies it anyway. Nothing may be
    # sent while it is in flight: the month starts over at its next delivery, after the visibility timeout.
    accounts = 40_000  # over 5,000,000 bytes of CBF: a replace_drop and a sum
    data = "".join(f"{n:012d},$1.{n % 100:02d}\n" for n in range(1, accounts + 1)).encode()
    expected = -sum((Decimal(f"1.{n % 100:02d}") for n in range(1, accounts + 1)), Decimal(0))
    with local_pipeline(
        stack_name=f"e2e-{uuid.uuid4().hex[:8]}",
        pusher_timeout_seconds=10.0,
        environment={"DEADLINE_MARGIN_SECONDS": "0.5", "REQUEST_TIMEOUT_SECONDS": "2"},
        retry_delay_seconds=3,  # the slow request ends 1 s after the pusher gave up on it
    ) as slow:
        assert slow.emulator is not None
        slow.emulator.inject_fault(delay_seconds=3.0, month="2026-03", chunk=1, count=1)
        slow.put("incoming/credits-2026-03.csv", data)
        slow.runner.run_until_idle()

        assert slow.emulator.concurrency_violations == []
        assert held_total(slow, "2026-03") == expected  # the late sum was replaced, not added twice
        month = only_report(slow)["months"]["2026-03"]
        assert (month["status"], month["verified"], month["attempts"]) == ("pushed", True, 2)
        # The slow sum landed after its delivery gave up; the next delivery started the month over.
        assert [d.operation for d in slow.emulator.drops()] == ["replace_drop", "sum", "replace_drop", "sum"]


@pytest.mark.parametrize("chunk", [0, 1], ids=["replace_drop", "sum"])
def test_a_chunk_answered_5xx_while_cloudzero_still_applies_it_is_never_doubled_nor_wiped(
    aws_endpoint: str, chunk: int
) -> None:
    # A gateway gives up on a slow backend (504) and the drop lands a second later. Sent again at once, a
    # sum counted twice and a replace_drop wiped the sums after it, both read back as verified first.
    accounts = 40_000  # over 5,000,000 bytes of CBF: a replace_drop and a sum
    data = "".join(f"{n:012d},$1.{n % 100:02d}\n" for n in range(1, accounts + 1)).encode()
    expected = -sum((Decimal(f"1.{n % 100:02d}") for n in range(1, accounts + 1)), Decimal(0))
    with local_pipeline(stack_name=f"e2e-{uuid.uuid4().hex[:8]}", retry_delay_seconds=3) as gateway:
        assert gateway.emulator is not None
        gateway.emulator.inject_fault(status=504, apply_after_seconds=1.0, month="2026-03", chunk=chunk, count=1)
        gateway.put("incoming/credits-2026-03.csv", data)
        gateway.runner.run_until_idle()

        assert gateway.emulator.concurrency_violations == []
        assert held_total(gateway, "2026-03") == expected
        month = only_report(gateway)["months"]["2026-03"]
        assert (month["status"], month["verified"], month["attempts"]) == ("pushed", True, 2)
        # The late drop landed before the next delivery started the month over from its replace_drop.
        landed = [d.operation for d in gateway.emulator.drops()]
        assert landed == [*["replace_drop", "sum"][: chunk + 1], "replace_drop", "sum"]


def test_after_an_outage_one_redrive_lands_every_month_exactly_once(pipeline: LocalPipeline) -> None:
    assert pipeline.emulator is not None
    pipeline.emulator.inject_fault(status=503, count=10_000)
    pipeline.put("incoming/credits-2026-01.csv", JANUARY)
    pipeline.put("incoming/credits-2026-02.csv", february())
    pipeline.runner.run_until_idle()

    dlq = pipeline.stack.output("DeadLetterQueueUrl")
    assert queue_depth(dlq) == 2  # both months wait in the DLQ with their batches
    assert report(pipeline, sha(JANUARY, "credits-2026-01.csv"))["status"] == "failed"
    assert pipeline.emulator.drops() == []

    pipeline.emulator.clear_faults()
    moved = redrive(
        dlq,
        pipeline.stack.output("DeadLetterQueueArn"),
        pipeline.stack.output("MonthQueueUrl"),
        pipeline.stack.output("MonthQueueArn"),
    )
    pipeline.runner.run_until_idle()

    assert moved.moved == 2
    assert queue_depth(dlq) == 0
    assert sorted(d.month for d in pipeline.emulator.drops()) == ["2026-01", "2026-02"]
    assert held_total(pipeline, "2026-01") == JANUARY_TOTAL
    assert held_total(pipeline, "2026-02") == Decimal("-30.50")
    assert report(pipeline, sha(JANUARY, "credits-2026-01.csv"))["status"] == "pushed"
    assert report(pipeline, sha(february(), "credits-2026-02.csv"))["months"]["2026-02"]["status"] == "pushed"
    assert pipeline.emulator.concurrency_violations == []


def test_a_redrive_run_on_the_last_retrys_alert_says_the_month_is_on_its_way_and_lands_it_when_run_again(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pipeline.emulator is not None
    pipeline.emulator.inject_fault(status=503, count=10_000)
    key = pipeline.put("incoming/credits-2026-02.csv", february())
    while pipeline.runner.pump_uploads():
        pass
    for _ in range(4):
        assert pipeline.runner.pump_months() == 1
    # The last retry fails; on AWS its message stays in flight for the queue's visibility timeout (720 s).
    assert pipeline.runner.pump_months(retry_delay=3) == 1
    month = report(pipeline, sha(february(), key))["months"]["2026-02"]
    assert month["status"] == "failed" and "moves to the dead-letter queue when" in month["error"]
    pipeline.emulator.clear_faults()  # CloudZero answers again; the operator follows the alert at once
    capsys.readouterr()

    assert redrive_main(["--stack-name", pipeline.stack.name]) == 1
    said = capsys.readouterr().out
    assert "0 month message(s) moved" in said
    assert "the month queue has 1 message(s) in flight" in said and "run this again after that" in said

    time.sleep(3.5)
    pipeline.runner.run_until_idle()  # the next receive past maxReceiveCount moves it to the DLQ
    assert queue_depth(pipeline.stack.output("DeadLetterQueueUrl")) == 1
    assert redrive_main(["--stack-name", pipeline.stack.name]) == 0
    pipeline.runner.run_until_idle()

    assert held_total(pipeline, "2026-02") == Decimal("-30.50")
    assert report(pipeline, sha(february(), key))["months"]["2026-02"]["status"] == "pushed"


def test_a_redelivered_month_is_not_sent_twice(pipeline: LocalPipeline) -> None:
    pipeline.put("incoming/credits-2026-02.csv", february())
    pipeline.runner.run_until_idle()
    # The same message again, as SQS may deliver it after a lost delete.
    batch = boto3.client("s3").get_object(
        Bucket=pipeline.bucket, Key=f"batches/{sha(february(), 'credits-2026-02.csv')}/2026-02.json"
    )
    assert batch["ContentLength"] > 0
    message = MonthMessage(
        file=FileRef(
            bucket=pipeline.bucket,
            key="incoming/credits-2026-02.csv",
            sha256=sha(february(), "credits-2026-02.csv"),
            format="headerless/1",
        ),
        month="2026-02",
        batch_bucket=pipeline.bucket,
        batch_key=f"batches/{sha(february(), 'credits-2026-02.csv')}/2026-02.json",
        accounts=2,
        total=Decimal("-30.50"),
    )
    MonthQueue(pipeline.stack.output("MonthQueueUrl"), pipeline.connection_id).send(message, "redelivery-test")
    pipeline.runner.run_until_idle()
    assert post_count(pipeline) == 1
    assert held_total(pipeline, "2026-02") == Decimal("-30.50")


def test_rate_limits_are_waited_out(pipeline: LocalPipeline) -> None:
    assert pipeline.emulator is not None
    pipeline.emulator.inject_fault(status=429, retry_after=1, count=1)
    pipeline.put("incoming/credits-2026-02.csv", february())
    pipeline.runner.run_until_idle()
    assert report(pipeline, sha(february(), "credits-2026-02.csv"))["status"] == "pushed"
    assert len(pipeline.emulator.drops()) == 1
    assert held_total(pipeline, "2026-02") == Decimal("-30.50")


def test_a_month_cloudzero_refuses_goes_straight_to_the_dlq_with_the_reason(pipeline: LocalPipeline) -> None:
    assert pipeline.emulator is not None
    pipeline.emulator.inject_fault(status=400, count=1, message="row 0: something CloudZero dislikes")
    pipeline.put("incoming/credits-2026-02.csv", february())
    pipeline.runner.run_until_idle()

    run = report(pipeline, sha(february(), "credits-2026-02.csv"))
    assert run["status"] == "failed"
    assert "something CloudZero dislikes" in run["months"]["2026-02"]["error"]
    assert post_count(pipeline) == 1  # no retry of a final answer
    assert pipeline.runner.stats.pusher_item_failures == 0  # not bounced through the queue either
    assert queue_depth(pipeline.stack.output("DeadLetterQueueUrl")) == 1


def test_a_month_read_back_differently_is_unverified_naming_the_account(pipeline: LocalPipeline) -> None:
    assert pipeline.emulator is not None
    pipeline.emulator.inject_fault(drift="cost")  # CloudZero accepts the drop, then holds its first row a cent off
    key = pipeline.put("incoming/credits-2026-02.csv", february())
    pipeline.runner.run_until_idle()

    filed = report(pipeline, sha(february(), key))
    month = filed["months"]["2026-02"]
    assert (month["status"], month["verified"]) == ("unverified", False)
    assert month["differences"] == [{"account_id": "000000000001", "sent": "-10.00", "held": "-9.99"}]
    assert "1 accounts differ (000000000001: sent -10.00, held -9.99)" in month["error"]
    assert filed["status"] == "failed"


def test_an_older_file_redriven_after_a_newer_one_does_not_overwrite_it(pipeline: LocalPipeline) -> None:
    assert pipeline.emulator is not None
    pipeline.emulator.inject_fault(status=500, count=10_000)
    old = february()
    pipeline.put("incoming/credits-2026-02.csv", old)
    pipeline.runner.run_until_idle()
    pipeline.emulator.clear_faults()
    corrected = february("000000000003,$5.00\n")
    pipeline.put("incoming/credits-2026-02-corrected.csv", corrected)
    pipeline.runner.run_until_idle()
    redrive(
        pipeline.stack.output("DeadLetterQueueUrl"),
        pipeline.stack.output("DeadLetterQueueArn"),
        pipeline.stack.output("MonthQueueUrl"),
        pipeline.stack.output("MonthQueueArn"),
    )
    pipeline.runner.run_until_idle()

    assert held_total(pipeline, "2026-02") == Decimal("-35.50")
    assert report(pipeline, sha(old, "credits-2026-02.csv"))["months"]["2026-02"]["status"] == "superseded"
    assert len(pipeline.emulator.drops()) == 1


def test_replay_resends_a_month_and_dry_run_writes_nothing(pipeline: LocalPipeline) -> None:
    assert pipeline.emulator is not None
    pipeline.put("incoming/credits-2026-01.csv", JANUARY)
    pipeline.runner.run_until_idle()

    dry = replay_month(pipeline.stack, "2026-01", dry_run=True)
    assert dry.valid is True and Decimal(dry.total) == JANUARY_TOTAL
    assert len(pipeline.emulator.drops()) == 1

    replayed = replay_month(pipeline.stack, "2026-01")
    pipeline.runner.run_until_idle()
    drops = pipeline.emulator.drops()
    assert replayed.replay_id
    assert [d.operation for d in drops] == ["replace_drop", "replace_drop"]
    assert held_total(pipeline, "2026-01") == JANUARY_TOTAL  # replaced, not added
    month = report(pipeline, sha(JANUARY, "credits-2026-01.csv"))["months"]["2026-01"]
    assert (month["status"], month["attempts"], month["drop_id"]) == ("pushed", 2, drops[-1].drop_id)

    with pytest.raises(ReplayError, match="no accepted file holds 2025-12"):
        replay_month(pipeline.stack, "2025-12")


@pytest.mark.parametrize(
    ("wrong_key", "again_key"),
    [
        ("incoming/credits-2026-02.csv", "incoming/credits-2026-02.csv"),
        # S3 writes the key URL-encoded in its event (`credits+2026-02+%28fixed%29.csv`): the push again names it.
        ("incoming/credits-2026-02-v2.csv", "incoming/credits 2026-02 (fixed).csv"),
    ],
    ids=["under-the-same-key", "under-a-key-with-spaces"],
)
def test_the_right_file_uploaded_again_after_a_wrong_one_lands_again(
    pipeline: LocalPipeline, wrong_key: str, again_key: str
) -> None:
    right, wrong = february(), february("000000000003,$5.00\n")
    pipeline.put("incoming/credits-2026-02.csv", right)
    pipeline.runner.run_until_idle()
    pipeline.put(wrong_key, wrong)  # a mistake
    pipeline.runner.run_until_idle()
    assert held_total(pipeline, "2026-02") == Decimal("-35.50")

    key = pipeline.put(again_key, right)  # the operator puts the right file back: the month's latest upload
    pipeline.runner.run_until_idle()

    assert held_total(pipeline, "2026-02") == Decimal("-30.50")
    month = report(pipeline, sha(right, key))["months"]["2026-02"]
    assert (month["status"], month["verified"]) == ("pushed", True)
    assert tags(pipeline, key)["credits-pipeline-status"] == "duplicate"
    assert pipeline.emulator is not None and pipeline.emulator.concurrency_violations == []


def test_a_two_month_sheet_uploaded_again_after_a_wrong_file_for_one_month_lands_that_month_again(
    pipeline: LocalPipeline,
) -> None:
    sheet = (
        b"Account ID,Month,Amount\n000000000001,2026-01,10.00\n000000000002,2026-01,20.50\n000000000003,2026-02,5.00\n"
    )
    pipeline.put("incoming/sheet.csv", sheet)
    pipeline.runner.run_until_idle()
    pipeline.put("incoming/credits-2026-02.csv", b"000000000003,$500.00\n")  # a mistake, for February only
    pipeline.runner.run_until_idle()
    assert held_total(pipeline, "2026-02") == Decimal("-500.00")

    pipeline.put("incoming/sheet (again).csv", sheet)  # the sheet, the latest upload of both its months
    pipeline.runner.run_until_idle()

    assert (held_total(pipeline, "2026-01"), held_total(pipeline, "2026-02")) == (Decimal("-30.50"), Decimal("-5.00"))
    months = report(pipeline, sha(sheet, "incoming/sheet.csv"))["months"]
    assert {month: (state["status"], state["verified"]) for month, state in months.items()} == {
        "2026-01": ("pushed", True),
        "2026-02": ("pushed", True),
    }
    assert pipeline.emulator is not None
    january = [drop for drop in pipeline.emulator.drops(pipeline.connection_id) if drop.month.startswith("2026-01")]
    assert len(january) == 1  # CloudZero held the sheet's January all along: not sent again


def test_replay_of_a_named_file_makes_it_the_months_truth(pipeline: LocalPipeline) -> None:
    first, second = february(), february("000000000003,$5.00\n")
    pipeline.put("incoming/credits-2026-02.csv", first)
    pipeline.runner.run_until_idle()
    pipeline.put("incoming/credits-2026-02-v2.csv", second)
    pipeline.runner.run_until_idle()
    assert held_total(pipeline, "2026-02") == Decimal("-35.50")

    replay_month(pipeline.stack, "2026-02", file="incoming/credits-2026-02.csv")
    pipeline.runner.run_until_idle()
    assert held_total(pipeline, "2026-02") == Decimal("-30.50")


@pytest.mark.parametrize(
    ("key", "body", "reason"),
    [
        ("incoming/credits-2026-01.csv", b"", "empty"),
        ("incoming/credits-2026-01.csv", b"\x00\x01\x02\xff\xfe garbage \x00" * 50, "binary"),
        ("incoming/credits-2026-01.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
        ("incoming/credits.csv", b"000000000001,$10.00\n", "no YYYY-MM month"),
        ("incoming/credits-2026-01.csv", b"\xe9t\xe9,10\n" * 3, "UTF-8"),
        ("incoming/credits-2026-01.csv", b"000000000001,$0.00\n000000000002,$ -\n", "no valid credit row"),
        ("incoming/credits-2026-01.csv", b"000000000001,$1.00\n000000000001,$2.00\n", "different amounts"),
    ],
)
def test_a_bad_file_is_rejected_once_with_its_reason_and_kept(
    pipeline: LocalPipeline, key: str, body: bytes, reason: str
) -> None:
    pipeline.put(key, body)
    pipeline.runner.run_until_idle()

    run = only_report(pipeline)
    assert run["status"] == "rejected"
    assert key in run["error"] and reason in run["error"]
    assert post_count(pipeline) == 0
    assert pipeline.runner.stats.splitter_invocations == 1 and pipeline.runner.stats.splitter_failures == 0
    assert queue_depth(pipeline.stack.output("MonthQueueUrl")) == 0
    assert boto3.client("s3").head_object(Bucket=pipeline.bucket, Key=key)["ContentLength"] == len(body)
    assert tags(pipeline, key)["credits-pipeline-status"] == "rejected"


@pytest.mark.parametrize("key", ["incoming/credits 2026-02 final.csv", "incoming/credits+2026-02+ü€.csv"])
def test_keys_with_spaces_plus_and_unicode_work(pipeline: LocalPipeline, key: str) -> None:
    pipeline.put(key, february())
    pipeline.runner.run_until_idle()
    run = report(pipeline, sha(february(), "credits-2026-02.csv"))
    assert (run["status"], run["file"]["key"]) == ("pushed", key)
    assert held_total(pipeline, "2026-02") == Decimal("-30.50")


def test_the_same_bytes_named_for_two_months_are_two_months_not_a_duplicate(pipeline: LocalPipeline) -> None:
    pipeline.put("incoming/credits-2026-02.csv", february())
    pipeline.put("incoming/credits-2026-03.csv", february())
    pipeline.runner.run_until_idle()
    assert held_total(pipeline, "2026-02") == Decimal("-30.50")
    assert held_total(pipeline, "2026-03") == Decimal("-30.50")
    assert report(pipeline, sha(february(), "credits-2026-03.csv"))["status"] == "pushed"


def test_every_file_ends_in_exactly_one_summary_line(pipeline: LocalPipeline, caplog: pytest.LogCaptureFixture) -> None:
    pipeline.put("incoming/credits-2026-01.csv", JANUARY)
    pipeline.put("incoming/credits-2026-04.csv", b"")  # rejected
    pipeline.runner.run_until_idle()
    pipeline.put("incoming/credits-2026-01-again.csv", JANUARY)  # duplicate
    pipeline.runner.run_until_idle()

    summaries = [record for record in caplog.records if getattr(record, "summary", False) is True]
    seen = {(record.file["key"], record.levelname, record.status) for record in summaries}  # type: ignore[attr-defined]
    assert len(summaries) == 3
    assert seen == {
        ("incoming/credits-2026-01.csv", "INFO", "pushed"),
        ("incoming/credits-2026-04.csv", "ERROR", "rejected"),
        ("incoming/credits-2026-01.csv", "INFO", "duplicate"),
    }
    rejected = next(record for record in summaries if record.levelname == "ERROR")
    assert "incoming/credits-2026-04.csv" in rejected.error and "empty" in rejected.error  # type: ignore[attr-defined]
    logged = "\n".join(str(record.__dict__) for record in caplog.records)
    assert LOCAL_API_KEY not in logged  # the API key is never logged


def test_the_operator_commands_work_against_the_stack_by_name(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pipeline.emulator is not None
    pipeline.emulator.inject_fault(status=502, count=10_000)
    pipeline.put("incoming/credits-2026-02.csv", february())
    pipeline.runner.run_until_idle()
    pipeline.emulator.clear_faults()

    assert redrive_main(["--stack-name", pipeline.stack.name]) == 0
    assert "1 month message(s) moved" in capsys.readouterr().out
    pipeline.runner.run_until_idle()
    assert held_total(pipeline, "2026-02") == Decimal("-30.50")

    assert replay_main(["--stack-name", pipeline.stack.name, "--month", "2026-02", "--dry-run"]) == 0
    assert "CloudZero says valid" in capsys.readouterr().out
    assert replay_main(["--stack-name", pipeline.stack.name, "--month", "2026-02"]) == 0
    assert "queued" in capsys.readouterr().out
    pipeline.runner.run_until_idle()
    assert len(pipeline.emulator.drops()) == 2
    assert replay_main(["--stack-name", pipeline.stack.name, "--month", "2030-01"]) == 2
    assert "no accepted file holds 2030-01" in capsys.readouterr().err


def test_a_corrected_file_uploaded_under_the_same_key_replaces_the_month(pipeline: LocalPipeline) -> None:
    key = "incoming/credits-2026-02.csv"
    corrected = february("000000000003,$5.00\n")
    pipeline.put(key, february())
    pipeline.runner.run_until_idle()
    pipeline.put(key, corrected)
    pipeline.runner.run_until_idle()

    assert pipeline.emulator is not None
    assert held_total(pipeline, "2026-02") == Decimal("-35.50")  # replaced, not added to
    assert [d.operation for d in pipeline.emulator.drops()] == ["replace_drop", "replace_drop"]
    assert report(pipeline, sha(corrected, key))["status"] == "pushed"
    assert report(pipeline, sha(february(), key))["status"] == "pushed"
