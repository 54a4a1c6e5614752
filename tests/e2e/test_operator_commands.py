"""The operator commands against a running stack (moto + emulator), as a person would run them."""

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import botocore.handlers
import pytest
from botocore.exceptions import ClientError

from credits_pipeline.adapters.cloudzero import AnyCostClient
from credits_pipeline.adapters.s3 import REPROCESSED_AT, ObjectStore
from credits_pipeline.domain.cbf import drop_bodies
from credits_pipeline.domain.messages import AccountCreditRow, FileRef, MonthBatch
from credits_pipeline.domain.verification import MonthCheck
from credits_pipeline.formats import DEFAULT_DESCRIPTION, DEFAULT_SERVICE
from local_stack.provision import LOCAL_API_KEY
from local_stack.runner import REPO
from local_stack.stack import LocalPipeline, local_pipeline
from operator_commands import preflight, replay, reprocess, status, verify
from operator_commands.cli import Target
from operator_commands.months import MonthTruth, check_in_cloudzero

from .conftest import held_total, queue_depth, report
from .test_pipeline import february, post_count, sha

EUROS = b"Account ID,Month,Amount,Currency\n000000000001,2026-01,10.00,EUR\n000000000002,2026-01,5.00,EUR\n"


def stack_args(pipeline: LocalPipeline) -> list[str]:
    return ["--stack-name", pipeline.stack.name]


def overwrite_month_in_cloudzero(pipeline: LocalPipeline, month: str) -> None:
    """Someone (another pipeline, a person in CloudZero) replaces the month with other credits: the
    February file's two credits, the first one a dollar larger."""
    file = FileRef(bucket=pipeline.bucket, key=f"incoming/credits-{month}.csv", sha256=sha(february(), month))
    altered = MonthBatch(
        file=file,
        month=month,
        credits=[
            AccountCreditRow(
                account_id="000000000001",
                cost=Decimal("-11.00"),
                description=DEFAULT_DESCRIPTION,
                service=DEFAULT_SERVICE,
            ),
            AccountCreditRow(
                account_id="000000000002",
                cost=Decimal("-20.50"),
                description=DEFAULT_DESCRIPTION,
                service=DEFAULT_SERVICE,
            ),
        ],
    )
    client = AnyCostClient(pipeline.cloudzero_url, pipeline.connection_id, LOCAL_API_KEY)
    deadline = time.monotonic() + 30
    for drop in drop_bodies(altered):
        client.post_drop(drop, "someone-else", lambda: deadline - time.monotonic())


def test_status_shows_a_pushed_a_rejected_and_a_failed_file(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert pipeline.emulator is not None
    pipeline.put("incoming/credits-2026-02.csv", february())
    pipeline.put("incoming/credits-2026-04.csv", b"")
    pipeline.runner.run_until_idle()
    pipeline.emulator.inject_fault(status=400, count=1, message="row 0: something CloudZero dislikes")
    pipeline.put("incoming/credits-2026-03.csv", february("000000000003,$5.00\n"))
    pipeline.runner.run_until_idle()
    pipeline.put("incoming/credits-2026-02 again.csv", february())  # a duplicate keeps `pushed` visible
    pipeline.runner.run_until_idle()

    assert status.main(stack_args(pipeline)) == 0
    table = capsys.readouterr().out
    assert f"s3://{pipeline.bucket}/" in table
    lines = {line.split("  incoming/")[-1].split()[0]: line for line in table.splitlines() if "incoming/" in line}
    assert lines["credits-2026-02.csv"].split()[1] == "pushed"
    assert "2026-02 verified" in lines["credits-2026-02.csv"] and "duplicate" in lines["credits-2026-02.csv"]
    assert lines["credits-2026-04.csv"].split()[1] == "rejected" and "empty" in lines["credits-2026-04.csv"]
    assert lines["credits-2026-03.csv"].split()[1] == "failed" and "2026-03 failed" in lines["credits-2026-03.csv"]

    assert status.main([*stack_args(pipeline), "--json"]) == 0
    files = {entry["file"]["key"]: entry for entry in json.loads(capsys.readouterr().out)["files"]}
    assert {key: entry["outcome"] for key, entry in files.items()} == {
        "incoming/credits-2026-02.csv": "pushed",
        "incoming/credits-2026-04.csv": "rejected",
        "incoming/credits-2026-03.csv": "failed",
    }
    assert files["incoming/credits-2026-02.csv"]["status"] == "duplicate"  # the report's latest event, as before
    assert files["incoming/credits-2026-03.csv"]["report"].startswith(f"s3://{pipeline.bucket}/reports/")

    local = tmp_path / "credits-2026-03.csv"
    local.write_bytes(february("000000000003,$5.00\n"))
    assert status.main([*stack_args(pipeline), str(local)]) == 0
    shown = capsys.readouterr().out
    assert "outcome   failed" in shown and "something CloudZero dislikes" in shown
    assert f"s3://{pipeline.bucket}/reports/{sha(local.read_bytes(), 'credits-2026-03.csv')}.json" in shown

    never = tmp_path / "credits-2026-05.csv"
    never.write_bytes(february())
    assert status.main([*stack_args(pipeline), str(never)]) == 1
    assert "was not uploaded as incoming/credits-2026-05.csv" in capsys.readouterr().err


def test_status_of_a_month_shows_its_file_drop_verification_and_cloudzero(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pipeline.emulator is not None
    pipeline.put("incoming/credits-2026-02.csv", february())
    pipeline.runner.run_until_idle()

    assert status.main([*stack_args(pipeline), "--month", "2026-02", "--cloudzero"]) == 0
    out = capsys.readouterr().out
    shown = {line[:10].strip(): line[10:] for line in out.splitlines()}
    assert shown["file"].startswith(f"s3://{pipeline.bucket}/incoming/credits-2026-02.csv"), out
    assert shown["drop id"] == pipeline.emulator.drops()[-1].drop_id
    assert shown["verified"].startswith("yes")
    assert shown["CloudZero"] == "CloudZero holds the 2 rows sent, totalling -30.50"

    assert status.main([*stack_args(pipeline), "--month", "2026-02", "--cloudzero", "--json"]) == 0
    month = json.loads(capsys.readouterr().out)
    assert (month["status"], month["verified"], month["total"]) == ("pushed", True, "-30.50")
    assert month["cloudzero"]["matches"] is True and month["cloudzero"]["total_held"] == "-30.50"

    assert status.main([*stack_args(pipeline), "--month", "2031-01"]) == 1
    assert "no accepted file holds 2031-01" in capsys.readouterr().err


def test_status_of_a_month_whose_replay_failed_says_its_read_back_is_of_the_push_before(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pipeline.emulator is not None
    pipeline.put("incoming/credits-2026-02.csv", february())
    pipeline.runner.run_until_idle()
    pipeline.emulator.inject_fault(status=400, count=1, message="row 0: something CloudZero dislikes")
    assert replay.main([*stack_args(pipeline), "--month", "2026-02"]) == 0
    pipeline.runner.run_until_idle()
    capsys.readouterr()

    assert status.main([*stack_args(pipeline), "--month", "2026-02"]) == 0

    shown = {line[:10].strip(): line[10:] for line in capsys.readouterr().out.splitlines()}
    assert shown["status"] == "failed"
    pushed_at = shown["pushed at"]
    assert shown["verified"].startswith("yes, read back at ")
    assert shown["verified"].endswith(f" (the push at {pushed_at}, before the month became failed)")


def test_verify_finds_a_month_changed_in_cloudzero_and_a_replay_repairs_it(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline.put("incoming/credits-2026-02.csv", february())
    pipeline.runner.run_until_idle()
    assert verify.main([*stack_args(pipeline), "--month", "2026-02"]) == 0
    assert "verified: CloudZero holds the 2 rows sent, totalling -30.50" in capsys.readouterr().out

    overwrite_month_in_cloudzero(pipeline, "2026-02")
    assert verify.main([*stack_args(pipeline), "--month", "2026-02"]) == 1
    out = capsys.readouterr().out
    assert "NOT AS SENT" in out and "000000000001" in out and "credits-replay --month 2026-02" in out
    month = report(pipeline, sha(february(), "credits-2026-02.csv"))["months"]["2026-02"]
    assert (month["status"], month["verified"]) == ("unverified", False)
    assert month["differences"] == [{"account_id": "000000000001", "sent": "-10.00", "held": "-11.00"}]

    assert replay.main([*stack_args(pipeline), "--month", "2026-02"]) == 0
    pipeline.runner.run_until_idle()
    assert held_total(pipeline, "2026-02") == Decimal("-30.50")
    month = report(pipeline, sha(february(), "credits-2026-02.csv"))["months"]["2026-02"]
    assert (month["status"], month["verified"], month["differences"]) == ("pushed", True, [])  # read back again
    capsys.readouterr()
    assert verify.main([*stack_args(pipeline), "--month", "2026-02", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["matches"] is True


@pytest.mark.parametrize("json_output", [False, True], ids=["text", "json"])
def test_verify_whose_record_aws_refuses_shows_the_check_and_says_to_run_it_again(
    json_output: bool, pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline.put("incoming/credits-2026-02.csv", february())
    pipeline.runner.run_until_idle()
    overwrite_month_in_cloudzero(pipeline, "2026-02")
    before = report(pipeline, sha(february(), "credits-2026-02.csv"))["months"]["2026-02"]
    capsys.readouterr()

    def throttled(**_: Any) -> None:
        error = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
        raise ClientError(error, "PutItem")  # type: ignore[arg-type]

    # Every session the command makes: DynamoDB refuses the write of the record, after CloudZero was read.
    monkeypatch.setattr(
        botocore.handlers,
        "BUILTIN_HANDLERS",
        [*botocore.handlers.BUILTIN_HANDLERS, ("before-parameter-build.dynamodb.PutItem", throttled)],
    )
    code = verify.main([*stack_args(pipeline), "--month", "2026-02", *(["--json"] if json_output else [])])

    said = capsys.readouterr()
    assert code == 2
    if json_output:
        shown = json.loads(said.out)
        assert (shown["matches"], shown["recorded"]) == (False, False)
    else:
        assert "NOT AS SENT" in said.out and "000000000001" in said.out and "recorded in" not in said.out
    assert "not recorded in full (" in said.err and "ThrottlingException" in said.err
    assert said.err.rstrip().endswith("run credits-verify --month 2026-02 again to record it")
    after = report(pipeline, sha(february(), "credits-2026-02.csv"))["months"]["2026-02"]
    assert after == before  # the record is as it was: the next verify records what it finds


@pytest.mark.parametrize("meanwhile", ["queued", "pushed"])
def test_verify_records_nothing_over_a_push_made_while_it_read_cloudzero(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, meanwhile: str
) -> None:
    assert pipeline.emulator is not None
    key = pipeline.put("incoming/credits-2026-02.csv", february())
    pipeline.runner.run_until_idle()
    emulator = pipeline.emulator

    def read_while_the_month_is_sent_again(target: Target, truth: MonthTruth) -> MonthCheck:
        check = check_in_cloudzero(target, truth)  # CloudZero holds the push it read as sent
        assert replay.main([*stack_args(pipeline), "--month", "2026-02"]) == 0
        if meanwhile == "pushed":  # and holds the new push wrongly: the pusher records it `unverified`
            emulator.inject_fault(drift="cost", month="2026-02")
            pipeline.runner.run_until_idle()
        return check

    monkeypatch.setattr(verify, "check_in_cloudzero", read_while_the_month_is_sent_again)
    before = report(pipeline, sha(february(), key))["months"]["2026-02"]

    assert verify.main([*stack_args(pipeline), "--month", "2026-02"]) == 1
    err = capsys.readouterr().err
    assert "2026-02 was pushed again, or queued to be, while credits-verify read CloudZero: nothing recorded" in err
    assert "run credits-verify again" in err
    month = report(pipeline, sha(february(), key))["months"]["2026-02"]
    if meanwhile == "pushed":
        assert (month["status"], month["verified"]) == ("unverified", False)  # the pusher's finding stands
        assert month["differences"] == [{"account_id": "000000000001", "sent": "-10.00", "held": "-9.99"}]
    else:
        assert month["status"] == "pending" and month["verified_at"] == before["verified_at"]  # still queued


def test_cloudzero_is_not_read_while_a_push_of_the_month_is_queued(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pipeline.emulator is not None
    pipeline.put("incoming/credits-2026-02.csv", february())
    pipeline.runner.run_until_idle()
    assert replay.main([*stack_args(pipeline), "--month", "2026-02"]) == 0  # the pusher has yet to take it
    capsys.readouterr()
    asked = len(pipeline.emulator.requests)

    assert verify.main([*stack_args(pipeline), "--month", "2026-02"]) == 1
    assert capsys.readouterr().err.strip() == (
        "credits-verify: a push of 2026-02 is queued or in flight: run again when it is pushed "
        "(credits-status shows it)"
    )
    assert status.main([*stack_args(pipeline), "--month", "2026-02", "--cloudzero"]) == 0
    shown = {line[:10].strip(): line[10:] for line in capsys.readouterr().out.splitlines()}
    assert shown["status"] == "pending"
    assert shown["CloudZero"].startswith("not read now: a push of 2026-02 is queued or in flight")
    assert status.main([*stack_args(pipeline), "--month", "2026-02", "--cloudzero", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["cloudzero"]["matches"] is None
    assert len(pipeline.emulator.requests) == asked  # CloudZero was not asked

    pipeline.runner.run_until_idle()
    assert verify.main([*stack_args(pipeline), "--month", "2026-02"]) == 0
    assert pipeline.emulator.concurrency_violations == []


def test_cloudzero_is_not_read_while_the_pusher_holds_another_months_message(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pipeline.emulator is not None
    pipeline.put("incoming/credits-2026-02.csv", february())
    pipeline.runner.run_until_idle()
    pipeline.put("incoming/credits-2026-03.csv", february())
    pipeline.runner.pump_uploads()  # March is queued; the pusher takes it (and sends it, on the same connection)
    sqs, queue = boto3.client("sqs"), pipeline.stack.output("MonthQueueUrl")
    [held] = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1, VisibilityTimeout=60)["Messages"]
    asked = len(pipeline.emulator.requests)

    assert verify.main([*stack_args(pipeline), "--month", "2026-02"]) == 1
    err = capsys.readouterr().err
    assert "1 month message(s) are in flight, and CloudZero takes one request at a time: months being pushed" in err
    assert len(pipeline.emulator.requests) == asked

    sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=held["ReceiptHandle"], VisibilityTimeout=0)
    pipeline.runner.run_until_idle()
    assert verify.main([*stack_args(pipeline), "--month", "2026-02"]) == 0


def test_verify_on_the_not_read_back_alert_says_when_to_run_and_then_records_the_read_back(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pipeline.emulator is not None
    pipeline.emulator.inject_fault(status=503, count=100_000, path="any", skip=1)  # the POST lands, no read-back
    key = pipeline.put("incoming/credits-2026-02.csv", february())
    while pipeline.runner.pump_uploads():
        pass
    for _ in range(4):
        assert pipeline.runner.pump_months() == 1
    assert pipeline.runner.pump_months(retry_delay=3) == 1  # the last retry: in flight for the visibility timeout
    assert report(pipeline, sha(february(), key.removeprefix("incoming/")))["months"]["2026-02"]["verified"] is None
    pipeline.emulator.clear_faults()
    capsys.readouterr()

    assert verify.main([*stack_args(pipeline), "--month", "2026-02"]) == 1
    err = capsys.readouterr().err
    assert "a month whose last retry failed, which SQS moves to the dead-letter queue when its visibility" in err
    assert err.rstrip().endswith("run again after that")

    time.sleep(3.5)
    pipeline.runner.run_until_idle()
    assert verify.main([*stack_args(pipeline), "--month", "2026-02"]) == 0
    month = report(pipeline, sha(february(), key.removeprefix("incoming/")))["months"]["2026-02"]
    assert (month["status"], month["verified"]) == ("pushed", True)
    assert held_total(pipeline, "2026-02") == Decimal("-30.50")


def test_a_missing_file_a_version_s3_does_not_hold_and_cloudzero_down_each_say_what_to_do_next(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pipeline.emulator is not None
    key = pipeline.put("incoming/credits-2026-02.csv", february())
    pipeline.runner.run_until_idle()
    bucket, month = pipeline.bucket, [*stack_args(pipeline), "--month", "2026-02"]
    capsys.readouterr()

    def error_line() -> str:
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1, lines
        return lines[0]

    assert replay.main([*month, "--file", "incoming/credits-2026-02-typo.csv"]) == 2
    assert error_line() == (
        f"credits-replay: no object s3://{bucket}/incoming/credits-2026-02-typo.csv: "
        f"check the key (aws s3 ls s3://{bucket}/incoming/)"
    )
    assert replay.main([*month, "--file", key, "--version-id", "nope"]) == 2
    assert error_line() == (
        f"credits-replay: s3://{bucket}/{key} has no version nope: list its versions with "
        f"aws s3api list-object-versions --bucket {bucket} --prefix {key}"
    )

    # CloudZero answers 503 and asks for two minutes, more than a command waits
    pipeline.emulator.inject_fault(status=503, retry_after=120, count=10, path="any")
    assert verify.main(month) == 2
    line = error_line()
    assert line.startswith("credits-verify: CloudZero is unavailable now (") and "503" in line
    assert line.endswith("): try again in a few minutes")
    assert replay.main([*month, "--dry-run"]) == 2
    assert error_line().endswith("): try again in a few minutes")


def test_a_file_rejected_for_a_setting_is_reprocessed_after_the_fix_and_lands(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    key = pipeline.put("incoming/credits-eur.csv", EUROS)
    pipeline.runner.run_until_idle()
    rejected = report(pipeline, sha(EUROS, key))
    assert rejected["status"] == "rejected" and "EUR" in rejected["error"]

    pipeline.runner.update_environment("splitter", {"CURRENCIES": "USD,EUR"})  # the operator fixed Currencies
    assert reprocess.main([*stack_args(pipeline), "--key", key]) == 0
    assert f"s3://{pipeline.bucket}/{key} copied onto itself" in capsys.readouterr().out
    pipeline.runner.run_until_idle()

    landed = report(pipeline, sha(EUROS, key))
    assert landed["status"] == "pushed"
    assert [upload["outcome"] for upload in landed["uploads"]] == ["rejected", "accepted"]
    assert held_total(pipeline, "2026-01") == Decimal("-15.00")
    body = boto3.client("s3").get_object(Bucket=pipeline.bucket, Key=key)
    assert body["Body"].read() == EUROS and REPROCESSED_AT in body["Metadata"]

    assert reprocess.main([*stack_args(pipeline), "--key", key]) == 1
    err = capsys.readouterr().err
    assert "is pushed, not rejected: nothing to reprocess" in err and len(err.strip().splitlines()) == 1
    assert reprocess.main([*stack_args(pipeline), "--key", "incoming/nothing-here.csv"]) == 2
    assert "no object" in capsys.readouterr().err


def test_a_forced_reprocess_of_an_accepted_file_is_refused_since_a_copy_would_be_read_as_a_duplicate(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    key = pipeline.put("incoming/credits-2026-02.csv", february())
    pipeline.runner.run_until_idle()
    # the operator restricts KnownAccounts and wants the file read again with it
    pipeline.runner.update_environment("splitter", {"KNOWN_ACCOUNTS": "000000000001"})
    s3 = boto3.client("s3")
    before = s3.head_object(Bucket=pipeline.bucket, Key=key)

    assert reprocess.main([*stack_args(pipeline), "--key", key, "--force"]) == 1
    captured = capsys.readouterr()
    assert "copied" not in captured.out and len(captured.err.strip().splitlines()) == 1
    assert "is pushed, not rejected: nothing to reprocess" in captured.err
    assert "the splitter would take a copy as a duplicate and read nothing again" in captured.err
    assert "credits-replay --month YYYY-MM" in captured.err
    assert "upload a corrected file under incoming/" in captured.err
    after = s3.head_object(Bucket=pipeline.bucket, Key=key)
    assert (after["ETag"], after["LastModified"], after["Metadata"]) == (
        before["ETag"],
        before["LastModified"],
        before["Metadata"],
    )  # not copied
    pipeline.runner.run_until_idle()
    assert post_count(pipeline) == 1 and held_total(pipeline, "2026-02") == Decimal("-30.50")


def test_a_forced_reprocess_after_the_splitter_gave_up_on_a_reprocessed_file_reads_it_and_it_lands(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    key = rejected_euros(pipeline)  # tagged rejected; the reprocess's copy carries that tag along
    pipeline.runner.update_environment("splitter", {"CURRENCIES": "USD,EUR"})
    assert reprocess.main([*stack_args(pipeline), "--key", key]) == 0
    # The month queue is gone while the splitter reads the copy: it records the file, queues nothing, and gives up.
    sqs, queue_url = boto3.client("sqs"), pipeline.stack.output("MonthQueueUrl")
    settings = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    sqs.delete_queue(QueueUrl=queue_url)
    while pipeline.runner.pump_uploads():
        pass
    assert report(pipeline, sha(EUROS, key.removeprefix("incoming/")))["status"] == "pending"
    kept = ("FifoQueue", "ContentBasedDeduplication", "VisibilityTimeout", "RedrivePolicy", "MessageRetentionPeriod")
    sqs.create_queue(QueueName=queue_url.rsplit("/", 1)[-1], Attributes={k: settings[k] for k in kept if k in settings})
    capsys.readouterr()

    # the splitter_crashed alert's step, once the fault is fixed
    assert reprocess.main([*stack_args(pipeline), "--key", key, "--force"]) == 0
    assert "copied onto itself: the splitter reads it again" in capsys.readouterr().out
    pipeline.runner.run_until_idle()

    assert report(pipeline, sha(EUROS, key.removeprefix("incoming/")))["status"] == "pushed"
    assert held_total(pipeline, "2026-01") == Decimal("-15.00")


def test_a_forced_reprocess_of_a_file_read_through_as_rejected_whose_bytes_landed_since_is_refused(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    key = rejected_euros(pipeline)  # read through: tagged rejected by its own reading
    pipeline.runner.update_environment("splitter", {"CURRENCIES": "USD,EUR"})
    pipeline.put("incoming/credits-eur-again.csv", EUROS)  # the same bytes under another key: read and pushed
    pipeline.runner.run_until_idle()
    assert report(pipeline, sha(EUROS, key.removeprefix("incoming/")))["status"] == "pushed"
    capsys.readouterr()

    assert reprocess.main([*stack_args(pipeline), "--key", key, "--force"]) == 1

    said = capsys.readouterr()
    assert "copied" not in said.out and "the splitter would take a copy as a duplicate" in said.err


def test_a_reprocessed_copy_of_an_earlier_upload_is_not_this_months_file_to_the_watchdog(
    pipeline: LocalPipeline,
) -> None:
    before_upload = datetime.now(UTC) - timedelta(seconds=1)
    key = pipeline.put("incoming/credits-eur.csv", EUROS)
    pipeline.runner.run_until_idle()
    time.sleep(1.1)  # S3 times are to the second
    month_starts = datetime.now(UTC)  # the upload was last month, say
    time.sleep(1.1)
    assert reprocess.main([*stack_args(pipeline), "--key", key]) == 0  # a copy onto itself: new to S3
    assert reprocess.main([*stack_args(pipeline), "--key", key, "--force"]) == 0  # its first upload is kept

    store = ObjectStore()
    assert boto3.client("s3").head_object(Bucket=pipeline.bucket, Key=key)["LastModified"] >= month_starts
    assert store.modified_since(pipeline.bucket, "incoming/", month_starts) is False  # no file came this month
    assert store.modified_since(pipeline.bucket, "incoming/", before_upload) is True


def test_an_earlier_upload_under_a_key_uploaded_to_again_is_made_the_truth_by_its_version(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    s3, key = boto3.client("s3"), "incoming/credits-2026-02.csv"
    first = s3.put_object(Bucket=pipeline.bucket, Key=key, Body=february())["VersionId"]
    pipeline.runner.run_until_idle()
    s3.put_object(Bucket=pipeline.bucket, Key=key, Body=b"000000000001,$999.00\n")  # the wrong file, same key
    pipeline.runner.run_until_idle()
    assert held_total(pipeline, "2026-02") == Decimal("-999.00")

    assert replay.main([*stack_args(pipeline), "--month", "2026-02", "--file", key]) == 0
    assert "is already the month's truth" in capsys.readouterr().out  # the latest version: the wrong file
    pipeline.runner.run_until_idle()
    assert held_total(pipeline, "2026-02") == Decimal("-999.00")

    assert replay.main([*stack_args(pipeline), "--month", "2026-02", "--file", key, "--version-id", first]) == 0
    assert "already the month's truth" not in capsys.readouterr().out
    pipeline.runner.run_until_idle()
    assert held_total(pipeline, "2026-02") == Decimal("-30.50")


def test_a_replay_whose_message_cannot_be_queued_fails_and_says_so_in_the_report(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    key = pipeline.put("incoming/credits-2026-02.csv", february())
    pipeline.runner.run_until_idle()
    # SQS refuses the message (as it would without the permission, or when throttled)
    boto3.client("sqs").delete_queue(QueueUrl=pipeline.stack.output("MonthQueueUrl"))

    assert replay.main([*stack_args(pipeline), "--month", "2026-02"]) != 0
    capsys.readouterr()

    month = report(pipeline, sha(february(), key.removeprefix("incoming/")))["months"]["2026-02"]
    assert month["status"] == "pushed"  # as it was: nothing was queued
    assert "not queued" in month["error"] and "run credits-replay again" in month["error"]


def test_a_replay_of_a_named_file_that_cannot_be_queued_says_the_truth_moved_and_what_to_do(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline.put("incoming/credits-2026-02.csv", february())
    pipeline.put("incoming/credits-2026-02-wrong.csv", b"000000000001,$999.00\n")
    pipeline.runner.run_until_idle()
    boto3.client("sqs").delete_queue(QueueUrl=pipeline.stack.output("MonthQueueUrl"))
    capsys.readouterr()

    code = replay.main([*stack_args(pipeline), "--month", "2026-02", "--file", "incoming/credits-2026-02.csv"])

    said = capsys.readouterr().err
    assert code == 1
    assert "2026-02 was not queued (" in said
    assert "incoming/credits-2026-02.csv is already the month's truth while CloudZero still holds the file" in said
    assert "run the same credits-replay again" in said
    assert held_total(pipeline, "2026-02") == Decimal("-999.00")  # nothing sent


def test_a_replay_that_cannot_read_awss_clock_changes_nothing_and_says_to_run_it_again(
    pipeline: LocalPipeline,
) -> None:
    pipeline.put("incoming/credits-2026-02.csv", february())
    pipeline.put("incoming/credits-2026-02-wrong.csv", b"000000000001,$999.00\n")
    pipeline.runner.run_until_idle()
    session = boto3.Session()

    def throttled(params: dict[str, Any], **_: Any) -> None:
        if params.get("ProjectionExpression") == "id":  # the read of the month's pointer for AWS's clock
            error = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
            raise ClientError(error, "GetItem")  # type: ignore[arg-type]

    session.events.register("before-parameter-build.dynamodb.GetItem", throttled)

    with pytest.raises(replay.ReplayError) as refused:
        replay.replay_month(pipeline.stack, "2026-02", file="incoming/credits-2026-02.csv", session=session)

    assert refused.value.exit_code == 1
    assert "2026-02 was not queued (" in str(refused.value) and "ThrottlingException" in str(refused.value)
    assert str(refused.value).endswith("nothing was changed: run the same credits-replay again once AWS takes the call")
    wrong = report(pipeline, sha(b"000000000001,$999.00\n", "credits-2026-02-wrong.csv"))
    assert wrong["months"]["2026-02"]["status"] == "pushed"  # still the month's truth, nothing marked or queued
    assert queue_depth(pipeline.stack.output("MonthQueueUrl")) == 0


def test_a_replay_of_a_month_whose_batch_was_deleted_says_how_to_restore_it(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    key = pipeline.put("incoming/credits-2026-02.csv", february())
    pipeline.runner.run_until_idle()
    batch_key = report(pipeline, sha(february(), key.removeprefix("incoming/")))["months"]["2026-02"]["batch_key"]
    boto3.client("s3").delete_object(Bucket=pipeline.bucket, Key=batch_key)
    capsys.readouterr()

    assert replay.main([*stack_args(pipeline), "--month", "2026-02"]) != 0

    said = capsys.readouterr().err
    assert f"the batch of {key} cannot be sent again: batch s3://{pipeline.bucket}/{batch_key} is missing" in said
    prefix = batch_key.removesuffix(".json")
    assert f"aws s3api list-object-versions --bucket {pipeline.bucket} --prefix {prefix}" in said
    assert said.rstrip().endswith("then run this again")


USD_12 = b"Account ID,Month,Amount,Currency\n000000000001,2026-01,12.00,USD\n"


def rejected_euros(pipeline: LocalPipeline) -> str:
    """A EUR file, rejected (only USD is allowed yet); the next upload comes a second later (S3 keeps seconds)."""
    older = pipeline.put("incoming/credits eur (jan).csv", EUROS)  # a key a shell must quote
    pipeline.runner.run_until_idle()
    time.sleep(1.1)
    return older


def test_a_replay_of_a_rejected_file_says_why_it_was_rejected_and_what_to_do(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    older = rejected_euros(pipeline)
    capsys.readouterr()

    assert replay.main([*stack_args(pipeline), "--month", "2026-01", "--file", older]) == 2

    said = capsys.readouterr().err
    assert f"s3://{pipeline.bucket}/{older} was rejected (" in said and "EUR" in said
    assert said.rstrip().endswith("run credits-reprocess --key 'incoming/credits eur (jan).csv'")


def euros_reprocessed(pipeline: LocalPipeline, older: str) -> dict[str, Any]:
    """EUR allowed, the rejected file reprocessed: what its report says of its month."""
    pipeline.runner.update_environment("splitter", {"CURRENCIES": "USD,EUR"})
    assert reprocess.main([*stack_args(pipeline), "--key", older]) == 0
    pipeline.runner.run_until_idle()
    month: dict[str, Any] = report(pipeline, sha(EUROS, older))["months"]["2026-01"]
    return month


def test_a_rejected_file_reprocessed_after_a_newer_file_landed_does_not_replace_it(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    older = rejected_euros(pipeline)
    pipeline.put("incoming/credits-usd.csv", USD_12)
    pipeline.runner.run_until_idle()
    assert held_total(pipeline, "2026-01") == Decimal("-12.00")

    month = euros_reprocessed(pipeline, older)

    assert held_total(pipeline, "2026-01") == Decimal("-12.00")  # the later upload stays the month's truth
    assert month["status"] == "superseded" and "credits-usd.csv" in month["error"]


def test_a_file_made_the_truth_by_a_replay_stays_it_when_an_older_file_is_reprocessed(
    pipeline: LocalPipeline,
) -> None:
    older = rejected_euros(pipeline)
    wrong = b"Account ID,Month,Amount,Currency\n000000000001,2026-01,1200.00,USD\n"
    pipeline.put("incoming/credits-usd.csv", USD_12)
    pipeline.runner.run_until_idle()
    pipeline.put("incoming/credits-usd-wrong.csv", wrong)
    pipeline.runner.run_until_idle()
    assert held_total(pipeline, "2026-01") == Decimal("-1200.00")

    replay.replay_month(pipeline.stack, "2026-01", file="incoming/credits-usd.csv")  # the operator's fix
    pipeline.runner.run_until_idle()
    assert held_total(pipeline, "2026-01") == Decimal("-12.00")

    month = euros_reprocessed(pipeline, older)  # a file uploaded before the replay

    assert held_total(pipeline, "2026-01") == Decimal("-12.00")  # the replayed file stays the month's truth
    assert month["status"] == "superseded" and "credits-usd.csv" in month["error"]


@pytest.mark.parametrize("operator_clock_ahead", [10, -10])
def test_a_file_uploaded_after_a_replay_takes_the_month_back_whatever_the_operators_clock(
    pipeline: LocalPipeline, operator_clock_ahead: int
) -> None:
    pipeline.put("incoming/credits-2026-02.csv", february())
    pipeline.put("incoming/credits-2026-02-wrong.csv", b"000000000001,$999.00\n")
    pipeline.runner.run_until_idle()
    arguments = [*stack_args(pipeline), "--month", "2026-02", "--file", "incoming/credits-2026-02.csv"]
    paths = os.pathsep.join(str(path) for path in (REPO, REPO / "scripts", REPO / "shared"))
    skewed = subprocess.run(
        [sys.executable, "-m", "tests.clock_skew", str(operator_clock_ahead), "operator_commands.replay", *arguments],
        env={**os.environ, "PYTHONPATH": paths},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert skewed.returncode == 0, skewed.stderr
    pipeline.runner.run_until_idle()
    assert held_total(pipeline, "2026-02") == Decimal("-30.50")
    time.sleep(1)  # into the next second: AWS's clock says seconds only

    corrected = february("000000000003,$5.00\n")
    key = pipeline.put("incoming/credits-2026-02-corrected.csv", corrected)
    pipeline.runner.run_until_idle()

    assert report(pipeline, sha(corrected, key))["months"]["2026-02"]["status"] == "pushed"
    assert held_total(pipeline, "2026-02") == Decimal("-35.50")


def test_a_month_beyond_what_cloudzero_holds_is_rejected_unsent_and_lands_once_the_limit_is_raised(
    pipeline: LocalPipeline,
) -> None:
    pipeline.runner.update_environment("splitter", {"CLOUDZERO_MONTH_MAX_ROWS": "1"})
    key = pipeline.put("incoming/credits-2026-02.csv", february())
    pipeline.runner.run_until_idle()

    rejected = report(pipeline, sha(february(), key))
    assert rejected["status"] == "rejected"
    assert "2026-02 would be 2 CloudZero rows" in rejected["error"] and "nothing was sent" in rejected["error"]
    assert post_count(pipeline) == 0

    pipeline.runner.update_environment("splitter", {"CLOUDZERO_MONTH_MAX_ROWS": "2"})  # CloudZero raised it
    assert reprocess.main([*stack_args(pipeline), "--key", key]) == 0
    pipeline.runner.run_until_idle()
    assert report(pipeline, sha(february(), key))["status"] == "pushed"
    assert held_total(pipeline, "2026-02") == Decimal("-30.50")


def subscribed_topic(confirmed: bool = True) -> str:
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name=f"alerts-{uuid.uuid4().hex[:8]}")["TopicArn"]
    if confirmed:
        queue = sqs.create_queue(QueueName=f"alerts-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return str(topic)


def test_preflight_passes_a_ready_stack_and_names_each_problem_with_its_fix(
    aws_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    topic = subscribed_topic()
    with local_pipeline(stack_name=f"e2e-{uuid.uuid4().hex[:8]}", parameters={"AlarmTopicArn": topic}) as ready:
        assert preflight.main(stack_args(ready)) == 0
        out = capsys.readouterr().out
        assert f"bucket s3://{ready.bucket}/" in out and out.strip().endswith(f"s3://{ready.bucket}/incoming/")
        verdicts = [line.split()[0] for line in out.splitlines()[1:-1]]
        assert "PROBLEM" not in verdicts and verdicts.count("ok") == 5, out
        assert "validate endpoint accepts a drop" in out and "alerts reach sqs:arn:" in out
        # The health read answers for the connection itself: no fallback to listing its drops.
        health_line = f"ok       CloudZero knows connection {ready.connection_id} and accepts the key for it"
        assert health_line in out.splitlines() and "no health read" not in out, out
        assert ready.emulator is not None and ready.emulator.drops() == []  # nothing written
        health = f"/v2/connections/billing/{ready.connection_id}"
        assert [(r.method, r.status) for r in ready.emulator.requests if r.path == health] == [("GET", 200)]

        secret = ready.stack.output("ApiKeySecretArn")
        boto3.client("secretsmanager").put_secret_value(SecretId=secret, SecretString="a-rotated-key")
        assert preflight.main(stack_args(ready)) == 1
        out = capsys.readouterr().out
        [refused] = [line for line in out.splitlines() if line.startswith("PROBLEM")]
        assert "403" in refused and f"put-secret-value --secret-id {secret}" in refused
        assert out.strip().endswith("1 problem(s): fix them before the first real file")


def test_preflight_names_a_connection_cloudzero_does_not_know(
    aws_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # The stack names a connection the account (the emulator) does not have.
    parameters = {"AlarmTopicArn": subscribed_topic(), "CloudZeroConnectionId": "no-such-connection"}
    with local_pipeline(stack_name=f"e2e-{uuid.uuid4().hex[:8]}", parameters=parameters) as wrong:
        assert preflight.main(stack_args(wrong)) == 1
        out = capsys.readouterr().out
        [problem] = [line for line in out.splitlines() if line.startswith("PROBLEM")]
        assert "does not know connection no-such-connection (404)" in problem and "CloudZeroConnectionId" in problem
        assert "CloudZero knows connection" not in out, out
        assert out.strip().endswith("1 problem(s): fix them before the first real file")
        assert wrong.emulator is not None and wrong.emulator.drops() == []
        asked = [(r.method, r.status) for r in wrong.emulator.requests if r.connection_id == "no-such-connection"]
        assert asked and all(status == 404 for _, status in asked), asked


@pytest.mark.parametrize("topic", ["none", "unsubscribed"])
def test_preflight_says_when_alerts_reach_nobody(
    aws_endpoint: str, topic: str, capsys: pytest.CaptureFixture[str]
) -> None:
    parameters = {"AlarmTopicArn": subscribed_topic(confirmed=False)} if topic == "unsubscribed" else {}
    with local_pipeline(stack_name=f"e2e-{uuid.uuid4().hex[:8]}", parameters=parameters) as deployed:
        assert preflight.main(stack_args(deployed)) == 1
    problems = [line for line in capsys.readouterr().out.splitlines() if line.startswith("PROBLEM")]
    assert len(problems) == 1 and "alerts reach nobody" in problems[0]
    if topic == "unsubscribed":  # the operator's own topic: AlertEmail is refused beside it
        assert f"aws sns subscribe --topic-arn {parameters['AlarmTopicArn']}" in problems[0]
        assert "AlertEmail=" not in problems[0]
    else:
        assert "AlertEmail=" in problems[0]


def test_a_rejected_file_under_a_key_with_spaces_and_accents_is_reprocessed_and_lands(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    # The key as a person names a file (S3 events carry it URL-encoded: `+` and %XX).
    key = pipeline.put("incoming/Credits EUR März + Q1.csv", EUROS)
    pipeline.runner.run_until_idle()
    assert report(pipeline, sha(EUROS, key))["status"] == "rejected"

    pipeline.runner.update_environment("splitter", {"CURRENCIES": "USD,EUR"})
    assert reprocess.main([*stack_args(pipeline), "--key", key]) == 0
    capsys.readouterr()
    pipeline.runner.run_until_idle()

    landed = report(pipeline, sha(EUROS, key))
    assert (landed["status"], landed["file"]["key"]) == ("pushed", key)
    assert held_total(pipeline, "2026-01") == Decimal("-15.00")
