"""The watchdog's handler against moto's server: an alert is told once it is delivered, never before."""

import json
import uuid
from collections.abc import Callable

import boto3
import pytest

from credits_pipeline.services.watchdog import ChecksFailed
from local_stack.provision import StackOutputs
from local_stack.runner import LocalContext
from tests.lambda_events import Handler


def alert_inbox(topic_arn: str) -> str:
    """A queue subscribed to the alert topic: what a person's email would receive."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=f"inbox-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return str(url)


def subjects(url: str) -> list[str]:
    messages = boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    return [json.loads(message["Body"])["Subject"] for message in messages.get("Messages", [])]


def test_a_late_month_alert_the_topic_refused_is_told_on_the_next_run(
    stack: StackOutputs, cold_start: Callable[..., Handler], capsys: pytest.CaptureFixture[str]
) -> None:
    environment = dict(stack.watchdog.environment)
    topic_arn = environment["ALERT_TOPIC_ARN"]
    environment["EXPECT_FILE_BY_DAY"] = "1"  # a file is due from the 1st: this fresh bucket has none
    handler = cold_start("watchdog", environment)
    sns = boto3.client("sns")
    sns.delete_topic(TopicArn=topic_arn)  # an SNS outage: every publish is refused

    with pytest.raises(ChecksFailed):
        handler({}, LocalContext(stack.watchdog.name, 60))  # the run fails: Lambda retries, WatchdogErrorsAlarm
    assert '"AlertsNotDelivered"' in capsys.readouterr().out  # counted, for AlertsNotDeliveredAlarm

    assert sns.create_topic(Name=topic_arn.rsplit(":", 1)[1])["TopicArn"] == topic_arn  # SNS is back
    inbox = alert_inbox(topic_arn)
    assert handler({}, LocalContext(stack.watchdog.name, 60))["file_late"] is True
    assert handler({}, LocalContext(stack.watchdog.name, 60))["file_late"] is True
    [subject] = subjects(inbox)  # told once, when it was delivered
    assert "no credits file has arrived this month" in subject
