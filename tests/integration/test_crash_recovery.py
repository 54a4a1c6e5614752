"""Kill a function's process at the worst instants, then deliver again as Lambda would: nothing lost, nothing doubled.

Each function runs as a real child process against moto's server and the CloudZero emulator, and dies
with `os._exit` at a chosen AWS call (tests/chaos/kill_at.py). Lambda's delays before a retry or a
redelivery are not waited for: the retry runs with its clock moved forward by that delay.
"""

import hashlib
import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest

from local_stack.cloudzero import CloudZeroEmulator
from local_stack.provision import StackOutputs
from local_stack.runner import REPO
from tests.chaos.kill_at import KILLED
from tests.lambda_events import CONNECTION, s3_event, sqs_event

KEY = "incoming/credits-three-months.csv"
DATA = (
    b"Account ID,Month,Amount\n"
    b"000000000001,2026-01,10.00\n000000000002,2026-01,20.50\n"
    b"000000000003,2026-02,5.00\n"
    b"000000000004,2026-03,7.25\n000000000001,2026-03,0.75\n"
)
TOTALS = {"2026-01": Decimal("-30.50"), "2026-02": Decimal("-5.00"), "2026-03": Decimal("-8.00")}
SHA = hashlib.sha256(DATA).hexdigest()  # no month in the key: the bytes alone
LAMBDA_FIRST_ASYNC_RETRY_SECONDS = 60  # Lambda retries a failed async event after about a minute
SPLITTER_TIMEOUT, PUSHER_TIMEOUT = 300, 120

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")


def run(
    function: str,
    event: dict[str, Any],
    environment: dict[str, str],
    tmp_path: Path,
    *,
    kill: str = "",
    clock_offset: float = 0.0,
    timeout: float = 300.0,
) -> subprocess.CompletedProcess[str]:
    event_file = tmp_path / f"event-{time.monotonic_ns()}.json"
    event_file.write_text(json.dumps(event))
    paths = os.pathsep.join(str(path) for path in (REPO, REPO / "scripts", REPO / "shared"))
    command = [sys.executable, "-m", "tests.chaos.kill_at", function, str(event_file), "--timeout", str(timeout)]
    command += ["--kill", kill] if kill else []
    command += ["--clock-offset", str(clock_offset)]
    return subprocess.run(
        command,
        env={**os.environ, **environment, "PYTHONPATH": paths, "POWERTOOLS_METRICS_NAMESPACE": "CreditsPipeline"},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def upload_event(stack: StackOutputs) -> dict[str, Any]:
    put = boto3.client("s3").put_object(Bucket=stack.bucket_name, Key=KEY, Body=DATA)
    return s3_event(stack.bucket_name, KEY, len(DATA), put["VersionId"])


def queued(stack: StackOutputs) -> list[dict[str, Any]]:
    """Every month message waiting, received and made visible again (as Lambda's poller would see them)."""
    sqs = boto3.client("sqs")
    found: dict[str, dict[str, Any]] = {}
    for _ in range(5):
        answer = sqs.receive_message(
            QueueUrl=stack.month_queue_url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=0
        )
        for message in answer.get("Messages", []):
            found[message["MessageId"]] = dict(message)
        if not answer.get("Messages"):
            break
    return list(found.values())


def held(emulator: CloudZeroEmulator, month: str) -> Decimal:
    return sum((Decimal(row["cost/cost"]) for row in emulator.month_rows(CONNECTION, month)), Decimal(0))


def report(stack: StackOutputs) -> dict[str, Any]:
    body = boto3.client("s3").get_object(Bucket=stack.bucket_name, Key=f"reports/{SHA}.json")["Body"].read()
    loaded: dict[str, Any] = json.loads(body)
    return loaded


def in_progress_lock(stack: StackOutputs) -> dict[str, Any]:
    items = boto3.client("dynamodb").scan(TableName=stack.idempotency_table_name)["Items"]
    [lock] = [item for item in items if item["id"]["S"].startswith("splitter.accept_file")]
    return lock


def push_all(stack: StackOutputs, tmp_path: Path) -> None:
    """The pusher takes every queued month, one at a time, as Lambda's FIFO poller would."""
    for message in sorted(queued(stack), key=lambda m: json.loads(m["Body"])["month"]):
        done = run(
            "pusher", sqs_event(stack, message), dict(stack.pusher_environment), tmp_path, timeout=PUSHER_TIMEOUT
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert json.loads(done.stdout.splitlines()[-1]) == {"batchItemFailures": []}
        boto3.client("sqs").delete_message(QueueUrl=stack.month_queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.mark.parametrize(
    "kill",
    [
        "after:s3.PutObject:1",  # the first month's body stored (the uploads run beside the writing), no manifest
        "before:sqs.SendMessage:1",  # batches written, nothing queued
        "after:sqs.SendMessage:1",  # the first month queued, the others not
        "after:sqs.SendMessage:3",  # every month queued, the object not yet tagged
    ],
)
def test_a_splitter_killed_mid_file_is_finished_by_lambdas_first_retry(
    stack: StackOutputs, emulator: CloudZeroEmulator, tmp_path: Path, kill: str
) -> None:
    event = upload_event(stack)
    started = time.time()

    crashed = run("splitter", event, dict(stack.splitter_environment), tmp_path, kill=kill, timeout=SPLITTER_TIMEOUT)
    assert crashed.returncode == KILLED, crashed.stderr[-2000:]
    lock = in_progress_lock(stack)
    assert lock["status"]["S"] == "INPROGRESS"
    # The lock must not outlive Lambda's first retry, though the invocation had 300 s left.
    expires = int(lock["in_progress_expiration"]["N"]) / 1000
    assert expires < started + LAMBDA_FIRST_ASYNC_RETRY_SECONDS

    retried = run(
        "splitter",
        event,
        dict(stack.splitter_environment),
        tmp_path,
        clock_offset=LAMBDA_FIRST_ASYNC_RETRY_SECONDS,
        timeout=SPLITTER_TIMEOUT,
    )
    assert retried.returncode == 0, retried.stderr[-2000:]
    assert json.loads(retried.stdout.splitlines()[-1]) == {"files": [{"sha256": SHA, "status": "pending"}]}

    push_all(stack, tmp_path)
    assert {month: held(emulator, month) for month in TOTALS} == TOTALS
    assert len(emulator.drops(CONNECTION)) == len(TOTALS)  # each month once
    final = report(stack)
    assert final["status"] == "pushed"
    assert {month: state["status"] for month, state in final["months"].items()} == dict.fromkeys(TOTALS, "pushed")


@pytest.mark.parametrize(
    "kill",
    [
        "after:s3.GetObject:1",  # the batch read, nothing sent
        "before:dynamodb.UpdateItem:1",  # CloudZero accepted the month; the idempotency record does not know
        "after:dynamodb.UpdateItem:1",  # the push recorded; the report not yet updated
    ],
)
def test_a_pusher_killed_around_its_post_is_finished_by_the_redelivery_exactly_once(
    stack: StackOutputs, emulator: CloudZeroEmulator, tmp_path: Path, kill: str
) -> None:
    split = run("splitter", upload_event(stack), dict(stack.splitter_environment), tmp_path)
    assert split.returncode == 0, split.stderr[-2000:]
    january = next(m for m in queued(stack) if json.loads(m["Body"])["month"] == "2026-01")
    event = sqs_event(stack, january)

    crashed = run("pusher", event, dict(stack.pusher_environment), tmp_path, kill=kill, timeout=PUSHER_TIMEOUT)
    assert crashed.returncode == KILLED, crashed.stderr[-2000:]

    # SQS redelivers after the visibility timeout, longer than the function's timeout.
    event["Records"][0]["attributes"]["ApproximateReceiveCount"] = "2"
    again = run(
        "pusher",
        event,
        dict(stack.pusher_environment),
        tmp_path,
        clock_offset=PUSHER_TIMEOUT + 1,
        timeout=PUSHER_TIMEOUT,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout.splitlines()[-1]) == {"batchItemFailures": []}
    assert held(emulator, "2026-01") == TOTALS["2026-01"]  # exact: a second replace_drop replaces, never adds
    assert report(stack)["months"]["2026-01"]["status"] == "pushed"
