"""A function's whole path as Lambda runs it, in this (child) process: cold start, then one invocation.

The splitter: an S3 event -> the file read from S3 -> month batches in S3 and month messages in SQS.
The pusher: an SQS month message -> the batch read from S3 -> billing drops to the CloudZero emulator.
The clocks run around the invocation only (cold start is measured on its own, `python -X importtime`);
what the invocation produced is read back afterwards, for the result's check, with the function's own
clients (adapters.aws_clients): a session of the benchmark's own would load botocore's models a second
time and count them in the function's peak memory.
"""

import json
import os
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.clock import timed
from bench.scene import Stage
from credits_pipeline.adapters.aws_clients import aws_client, aws_session
from credits_pipeline.adapters.s3 import ObjectStore
from credits_pipeline.domain.identity import report_key
from local_stack.runner import load_handler


def splitter_path(scene: Stage) -> dict[str, Any]:
    assert scene.splitter_event is not None, "staged without an upload"
    os.environ.update(scene.splitter.environment)
    calls = _count_aws_calls()
    handler = load_handler(Path(scene.splitter.handler_path), "splitter_app")
    context = scene.splitter.context()
    calls.clear()  # the invocation's only
    result, seconds = timed(lambda: handler(scene.splitter_event or {}, context))
    made = dict(calls)  # before the read-back below, which uses the same clients
    return {"seconds": asdict(seconds), "result": result, "months": queued_months(scene), "aws_calls": made}


def _count_aws_calls() -> Counter[str]:
    """AWS calls by service, counted from botocore's own events on the session the functions' clients come from."""
    calls: Counter[str] = Counter()

    def counted(**event: Any) -> None:
        calls.update([str(event["event_name"]).split(".")[1]])  # before-call.<service>.<operation>

    aws_session().register("before-call", counted)
    return calls


def transfer_path(scene: Stage) -> dict[str, Any]:
    """The upload moved alone, as the splitter moves it (`ObjectStore.download`: S3's GET into a spooled file,
    hashed as it streams): a part of the splitter's path that a floor reading a local file does not have."""
    os.environ.update(scene.splitter.environment)
    store = ObjectStore()
    download, seconds = timed(lambda: store.download(scene.bucket, scene.key))
    download.close()
    return {"seconds": asdict(seconds), "bytes": download.size}


def queued_months(scene: Stage) -> dict[str, dict[str, Any]]:
    """month -> accounts, total, the file's format and the batch's size in S3, from the month messages in SQS.

    The size is the whole batch: its manifest and, since schema version 2, every chunk body it lists.
    """
    s3, sqs = aws_client("s3"), aws_client("sqs")
    messages = sqs.receive_message(QueueUrl=scene.month_queue_url, MaxNumberOfMessages=10).get("Messages", [])
    months = {}
    for message in messages:
        body = json.loads(message["Body"])
        stored = s3.get_object(Bucket=body["batch_bucket"], Key=body["batch_key"])["Body"].read()
        chunks = json.loads(stored).get("chunks", [])  # a version-1 batch holds its credits itself: no chunks
        months[body["month"]] = {
            "accounts": body["accounts"],
            "total": body["total"],
            "batch_bytes": len(stored) + sum(chunk["size"] for chunk in chunks),
            "chunks": len(chunks),
            "format": body["file"].get("format", ""),
        }
    return months


def pusher_path(scene: Stage) -> dict[str, Any]:
    assert scene.pusher_event is not None, "staged without a month message"
    os.environ.update(scene.pusher.environment)
    handler = load_handler(Path(scene.pusher.handler_path), "pusher_app")
    context = scene.pusher.context()
    result, seconds = timed(lambda: handler(scene.pusher_event or {}, context))
    message = json.loads(scene.pusher_event["Records"][0]["body"])
    month = message["month"]
    where = report_key(message["file"]["sha256"])
    report = json.loads(aws_client("s3").get_object(Bucket=scene.bucket, Key=where)["Body"].read())
    return {
        "seconds": asdict(seconds),
        "result": result,
        "month": month,
        "status": report["months"][month]["status"],
        "chunks": report["months"][month]["chunks"],
        "pushed_total": report["months"][month]["total"],
        "rows_held": held_rows(scene, month),
    }


def held_rows(scene: Stage, month: str) -> int:
    """The rows CloudZero (the emulator) now holds for the month, from its listing of billing drops."""
    connection = scene.pusher.environment["CLOUDZERO_CONNECTION_ID"]
    url = f"{scene.cloudzero_url}/v2/connections/billing/anycost/{connection}/billing_drops"
    import requests  # noqa: PLC0415 - the pusher's own dependency: the splitter's process does not load it

    listing = requests.get(url, headers={"Authorization": scene.cloudzero_api_key}, timeout=30).json()
    return sum(drop["row_count"] for drop in listing["billing_drops"] if drop["month"].startswith(month))
