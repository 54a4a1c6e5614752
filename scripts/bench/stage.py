"""Sets the scene for one measured run: a fresh stack, the file uploaded, its event (runs in bench.services).

Each run gets a stack of its own (provisioning takes about half a second), so no run finds the file
already split or the month already pushed by an earlier one.
"""

import json
import os
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import boto3

from bench.scene import Function, Stage
from credits_pipeline import wiring
from local_stack.cloudzero.rules import MonthLimits
from local_stack.provision import LOCAL_API_KEY, DeployedFunction, provision_stack
from local_stack.runner import REPO, load_handler, sqs_event_record

EVENT_WAIT_SECONDS = 60
# A month of a million accounts is ~185 MB of billing drops, beyond the 70 MB a CloudZero stream holds:
# the benchmark measures speed and memory at that size, so its stacks and emulator hold more (and say so).
BENCH_MONTH_LIMITS = MonthLimits(rows=10_000_000, bytes=2_000_000_000)


def stage_request(request: dict[str, Any], cloudzero_url: str) -> dict[str, Any]:
    """A request from the benchmark: stage, save the scene where it says; answer the functions' configuration."""
    scene = stage(request["stack_name"], cloudzero_url, request["file"], request["key"], request["split"])
    scene.save(Path(request["stage_path"]))
    functions = {"splitter": scene.splitter, "pusher": scene.pusher, "watchdog": scene.watchdog}
    return {"functions": {name: asdict(function) for name, function in functions.items()}}


def stage(stack_name: str, cloudzero_url: str, file: str = "", key: str = "", split: bool = False) -> Stage:
    """Provision `stack_name`; upload `file` as `key` and catch its S3 event; with `split`, run the splitter
    on it here and catch its first month message as the pusher's SQS event."""
    outputs = provision_stack(
        stack_name,
        {
            "CloudZeroBaseUrl": cloudzero_url,
            "CloudZeroConnectionId": stack_name,  # a connection each
            "CloudZeroMonthMaxRows": str(BENCH_MONTH_LIMITS.rows),
            "CloudZeroMonthMaxBytes": str(BENCH_MONTH_LIMITS.bytes),
        },
        api_key=LOCAL_API_KEY,
    )
    scene = Stage(
        stack_name=stack_name,
        bucket=outputs.bucket_name,
        month_queue_url=outputs.month_queue_url,
        cloudzero_url=cloudzero_url,
        cloudzero_api_key=LOCAL_API_KEY,
        splitter=_function(outputs.splitter, "splitter"),
        pusher=_function(outputs.pusher, "pusher"),
        watchdog=_function(outputs.watchdog, "watchdog"),
        key=key,
    )
    if not file:
        return scene
    boto3.client("s3").upload_file(file, outputs.bucket_name, key)
    event = _upload_event(outputs.local_upload_queue_url)
    scene = replace(scene, splitter_event=event)
    if split:
        os.environ.update(scene.splitter.environment)
        wiring.reset()  # the splitter is built once per process: build it for this stack
        handler = load_handler(Path(scene.splitter.handler_path), "staged_splitter")
        handler(event, scene.splitter.context())
        scene = replace(scene, pusher_event=_month_event(outputs.month_queue_url, outputs.month_queue_arn))
    return scene


def _function(deployed: DeployedFunction, directory: str) -> Function:
    return Function(
        name=deployed.name,
        handler_path=str(REPO / "functions" / directory / "app.py"),
        timeout_seconds=deployed.timeout_seconds,
        memory_mb=deployed.memory_mb,
        environment=dict(deployed.environment),
    )


def _upload_event(queue_url: str) -> dict[str, Any]:
    """The upload's S3 ObjectCreated event, as the bucket notification delivered it (S3's test event skipped)."""
    sqs = boto3.client("sqs")
    deadline = time.monotonic() + EVENT_WAIT_SECONDS
    while time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            event: dict[str, Any] = json.loads(message["Body"])
            if event.get("Event") != "s3:TestEvent":
                return event
    raise TimeoutError(f"no S3 event on {queue_url} within {EVENT_WAIT_SECONDS} s")


def _month_event(queue_url: str, queue_arn: str) -> dict[str, Any]:
    """The first month message as the SQS event source would hand it to the pusher (batch size 1)."""
    response = boto3.client("sqs").receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=1, AttributeNames=["All"], MessageAttributeNames=["All"]
    )
    messages = response.get("Messages", [])
    if not messages:
        raise RuntimeError("the splitter queued no month message")
    return {"Records": [sqs_event_record(messages[0], queue_arn)]}
