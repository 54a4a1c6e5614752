"""Alerts reach a person: a queue subscribed to the stack's alert topic receives exactly one readable
message per outcome that needs one, naming the file, the reason, the report and the fixing command."""

import json
import uuid
from typing import Any

import boto3

from local_stack.stack import LocalPipeline

from .conftest import held_total


def subscribe(pipeline: LocalPipeline) -> str:
    sqs, sns = boto3.client("sqs"), boto3.client("sns")
    url = sqs.create_queue(QueueName=f"alerts-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=pipeline.stack.output("AlertTopicArn"), Protocol="sqs", Endpoint=arn)
    return str(url)


def received(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    messages = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
        for message in batch:
            messages.append(json.loads(message["Body"]))  # the SNS envelope: Subject, Message
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return messages


def test_a_rejected_file_sends_one_alert_with_file_reason_report_and_fix(pipeline: LocalPipeline) -> None:
    alerts = subscribe(pipeline)
    key = pipeline.put("incoming/credits-2026-01.csv", b"this is not a credits file\n")
    pipeline.runner.run_until_idle()

    [alert] = received(alerts)
    assert "rejected" in alert["Subject"]
    text = alert["Message"]
    assert f"s3://{pipeline.bucket}/{key}" in text
    assert f"s3://{pipeline.bucket}/reports/" in text
    assert "scripts/reprocess.py --key incoming/credits-2026-01.csv" in text


def test_a_month_cloudzero_holds_differently_alerts_once(pipeline: LocalPipeline) -> None:
    assert pipeline.emulator is not None
    alerts = subscribe(pipeline)
    pipeline.emulator.inject_fault(drift="cost")  # CloudZero alters a row after accepting the drop
    pipeline.put("incoming/credits-2026-02.csv", b"000000000001,$10.00\n000000000002,$20.50\n")
    pipeline.runner.run_until_idle()

    [alert] = received(alerts)
    assert "does not hold 2026-02" in alert["Subject"]
    assert "scripts/verify.py --month 2026-02" in alert["Message"]
    assert held_total(pipeline, "2026-02") != 0


def test_a_file_that_lands_sends_nothing(pipeline: LocalPipeline) -> None:
    alerts = subscribe(pipeline)
    pipeline.put("incoming/credits-2026-03.csv", b"000000000001,$10.00\n")
    pipeline.runner.run_until_idle()
    assert received(alerts) == []
