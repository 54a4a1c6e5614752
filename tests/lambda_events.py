"""Lambda-shaped events built from the samples in events/, as S3 and SQS deliver them."""

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

from credits_pipeline.wiring.settings import PusherSettings
from credits_pipeline.wiring.splitter_settings import SplitterSettings
from local_stack.provision import StackOutputs
from local_stack.runner import REPO

CONNECTION = "it-connection"
API_KEY = "it-api-key"
EVENTS = REPO / "events"
# Every variable either function reads: cleared first, so nothing leaks in from other tests.
SETTINGS_VARIABLES = {name.upper() for name in (*SplitterSettings.model_fields, *PusherSettings.model_fields)}

Handler = Callable[[dict[str, Any], Any], Any]


def s3_event(bucket: str, key: str, size: int, version_id: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "s3-put.json").read_text())
    record = event["Records"][0]
    record["eventTime"] = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    record["s3"]["bucket"].update(name=bucket, arn=f"arn:aws:s3:::{bucket}")
    # S3 URL-encodes the key in events: spaces as `+`, UTF-8 as %XX.
    record["s3"]["object"].update(key=quote_plus(key, safe="/"), size=size, versionId=version_id)
    return event


def sqs_event(stack: StackOutputs, message: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "sqs-month.json").read_text())
    record = event["Records"][0]
    record.update(
        messageId=message["MessageId"],
        receiptHandle=message["ReceiptHandle"],
        body=message["Body"],
        md5OfBody=message["MD5OfBody"],
        eventSourceARN=stack.month_queue_arn,
    )
    record["attributes"].update(message["Attributes"])
    return event


def redelivered(event: dict[str, Any]) -> dict[str, Any]:
    again = copy.deepcopy(event)
    count = int(again["Records"][0]["attributes"]["ApproximateReceiveCount"])
    again["Records"][0]["attributes"]["ApproximateReceiveCount"] = str(count + 1)
    return again
