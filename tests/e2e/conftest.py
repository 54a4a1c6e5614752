"""The whole pipeline per test: a fresh stack from template.yaml in moto, the emulator, the runner."""

import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest

from local_stack.stack import LocalPipeline, local_pipeline


@pytest.fixture
def pipeline(aws_endpoint: str) -> Iterator[LocalPipeline]:
    # A short pusher timeout: in-process retries give up fast, so outages reach the DLQ in seconds.
    with local_pipeline(
        stack_name=f"e2e-{uuid.uuid4().hex[:8]}",
        pusher_timeout_seconds=4.0,
        environment={"DEADLINE_MARGIN_SECONDS": "0.5", "REQUEST_TIMEOUT_SECONDS": "2"},
    ) as running:
        yield running


def report(pipeline: LocalPipeline, sha256: str) -> dict[str, Any]:
    body = boto3.client("s3").get_object(Bucket=pipeline.bucket, Key=f"reports/{sha256}.json")["Body"].read()
    loaded: dict[str, Any] = json.loads(body)
    return loaded


def only_report(pipeline: LocalPipeline) -> dict[str, Any]:
    listed = boto3.client("s3").list_objects_v2(Bucket=pipeline.bucket, Prefix="reports/").get("Contents", [])
    assert len(listed) == 1, [entry["Key"] for entry in listed]
    return report(pipeline, listed[0]["Key"].removeprefix("reports/").removesuffix(".json"))


def held_total(pipeline: LocalPipeline, month: str) -> Decimal:
    assert pipeline.emulator is not None
    rows = pipeline.emulator.month_rows(pipeline.connection_id, month)
    return sum((Decimal(row["cost/cost"]) for row in rows), Decimal(0))


def queue_depth(url: str) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def tags(pipeline: LocalPipeline, key: str) -> dict[str, str]:
    tag_set = boto3.client("s3").get_object_tagging(Bucket=pipeline.bucket, Key=key)["TagSet"]
    return {tag["Key"]: tag["Value"] for tag in tag_set}
