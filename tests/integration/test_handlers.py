"""Each Lambda handler in-process, with Lambda-shaped events, against moto's server and the CloudZero emulator.

The stack is template.yaml provisioned into moto; each function runs with the environment the template
gives it, imported fresh (cold start) as Lambda would.
"""

import hashlib
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import boto3
import pytest

from credits_pipeline.wiring.settings import SettingsError
from local_stack.cloudzero import CloudZeroEmulator
from local_stack.provision import StackOutputs
from local_stack.runner import LocalContext
from tests.lambda_events import CONNECTION, Handler, redelivered, s3_event, sqs_event

KEY = "incoming/credits 2026-01 ü.csv"
DATA = b'000000000001,"$1,000.00"\n000000000002,$0.99\n000000000003,$ -\n'
TOTAL = -(Decimal("1000.00") + Decimal("0.99"))  # the zero row is skipped
SHA = hashlib.sha256(f"{hashlib.sha256(DATA).hexdigest()}|2026-01".encode()).hexdigest()

# A redelivery that sends nothing publishes no metric: Powertools says so, and that is expected here.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")


def uploaded(stack: StackOutputs, cold_start: Callable[..., Handler]) -> dict[str, Any]:
    """Put the file into the bucket and run the splitter's handler on the S3 event."""
    put = boto3.client("s3").put_object(Bucket=stack.bucket_name, Key=KEY, Body=DATA)
    handler = cold_start("splitter", dict(stack.splitter_environment))
    result: dict[str, Any] = handler(
        s3_event(stack.bucket_name, KEY, len(DATA), put["VersionId"]),
        LocalContext(stack.splitter_function_name, 30),
    )
    return result


def month_message(stack: StackOutputs) -> dict[str, Any]:
    messages = boto3.client("sqs").receive_message(
        QueueUrl=stack.month_queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
    )["Messages"]
    assert len(messages) == 1
    return dict(messages[0])


def report(stack: StackOutputs) -> dict[str, Any]:
    body = boto3.client("s3").get_object(Bucket=stack.bucket_name, Key=f"reports/{SHA}.json")["Body"].read()
    loaded: dict[str, Any] = json.loads(body)
    return loaded


def held_total(emulator: CloudZeroEmulator) -> Decimal:
    return sum((Decimal(row["cost/cost"]) for row in emulator.month_rows(CONNECTION, "2026-01")), Decimal(0))


def test_the_splitter_handler_turns_an_s3_event_into_a_report_and_a_month_message(
    stack: StackOutputs, cold_start: Callable[..., Handler]
) -> None:
    result = uploaded(stack, cold_start)

    assert result == {"files": [{"sha256": SHA, "status": "pending"}]}
    run = report(stack)
    assert (run["status"], run["file"]["key"], run["file"]["format"]) == ("pending", KEY, "headerless/1")
    assert (run["months"]["2026-01"]["accounts"], Decimal(run["months"]["2026-01"]["total"])) == (2, TOTAL)
    message = month_message(stack)
    body = json.loads(message["Body"])
    assert (body["month"], body["accounts"], Decimal(body["total"])) == ("2026-01", 2, TOTAL)
    assert body["file"]["key"] == KEY
    assert body["batch_key"] == f"batches/{SHA}/2026-01.json"
    assert message["Attributes"]["MessageGroupId"] == CONNECTION  # one group per connection: one push at a time
    tags = boto3.client("s3").get_object_tagging(Bucket=stack.bucket_name, Key=KEY)["TagSet"]
    assert {tag["Key"]: tag["Value"] for tag in tags}["credits-pipeline-status"] == "accepted"


def test_the_pusher_handler_lands_the_month_in_cloudzero(
    stack: StackOutputs, emulator: CloudZeroEmulator, cold_start: Callable[..., Handler]
) -> None:
    uploaded(stack, cold_start)
    event = sqs_event(stack, month_message(stack))
    handler = cold_start("pusher", dict(stack.pusher_environment))

    result = handler(event, LocalContext(stack.pusher_function_name, 30))

    assert result == {"batchItemFailures": []}
    assert held_total(emulator) == TOTAL
    [drop] = emulator.drops(CONNECTION)
    assert drop.operation == "replace_drop"
    run = report(stack)
    assert (run["status"], run["months"]["2026-01"]["drop_id"]) == ("pushed", drop.drop_id)
    # SQS may deliver it again: the idempotency record in DynamoDB answers, nothing is sent.
    assert handler(redelivered(event), LocalContext(stack.pusher_function_name, 30)) == {"batchItemFailures": []}
    assert len(emulator.drops(CONNECTION)) == 1


def test_when_cloudzero_keeps_failing_the_pusher_reports_a_partial_batch_failure(
    stack: StackOutputs, emulator: CloudZeroEmulator, cold_start: Callable[..., Handler]
) -> None:
    uploaded(stack, cold_start)
    message = month_message(stack)
    event = sqs_event(stack, message)
    emulator.inject_fault(status=500, count=10_000)
    environment = {**stack.pusher_environment, "DEADLINE_MARGIN_SECONDS": "0.5", "REQUEST_TIMEOUT_SECONDS": "1"}
    handler = cold_start("pusher", environment)

    result = handler(event, LocalContext(stack.pusher_function_name, 3.0))

    assert result == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
    run = report(stack)
    assert (run["status"], run["months"]["2026-01"]["status"]) == ("failed", "failed")
    assert "500" in run["months"]["2026-01"]["error"]
    assert emulator.drops() == []
    # The failure left no idempotency record behind: once CloudZero answers, the retry pushes.
    emulator.clear_faults()
    assert handler(redelivered(event), LocalContext(stack.pusher_function_name, 3.0)) == {"batchItemFailures": []}
    assert held_total(emulator) == TOTAL
    assert report(stack)["status"] == "pushed"


def test_the_pusher_refuses_to_start_without_its_connection_id(
    stack: StackOutputs, cold_start: Callable[..., Handler]
) -> None:
    environment = {k: v for k, v in stack.pusher_environment.items() if k != "CLOUDZERO_CONNECTION_ID"}

    with pytest.raises(SettingsError, match="CLOUDZERO_CONNECTION_ID"):
        cold_start("pusher", environment)
