"""What the splitter left in the stack after the fuzz: reports, month messages, batches and the uploads."""

import json
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3

from credits_pipeline.domain.identity import report_key
from local_stack.provision import StackOutputs


def reports(stack: StackOutputs, shas: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Each file's published report (`reports/<sha256>.json`), by sha256; a missing one is left out."""
    s3 = boto3.client("s3")

    def report(sha: str) -> tuple[str, dict[str, Any] | None]:
        try:
            return sha, json.loads(s3.get_object(Bucket=stack.bucket_name, Key=report_key(sha))["Body"].read())
        except s3.exceptions.NoSuchKey:
            return sha, None

    with ThreadPoolExecutor(max_workers=8) as pool:  # hundreds of round trips to moto
        return {sha: found for sha, found in pool.map(report, set(shas)) if found is not None}


def month_messages(stack: StackOutputs) -> list[dict[str, Any]]:
    """Every month message queued for the pusher, taken off the queue (the fuzz runs no pusher)."""
    sqs = boto3.client("sqs")
    bodies: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=stack.month_queue_url, MaxNumberOfMessages=10).get("Messages"):
        bodies += [json.loads(message["Body"]) for message in messages]
        sqs.delete_message_batch(
            QueueUrl=stack.month_queue_url,
            Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)],
        )
    return bodies


def batch_shas(stack: StackOutputs) -> set[str]:
    """The files a month batch was stored for (`batches/<sha256>/<month>.json`)."""
    pages = boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=stack.bucket_name, Prefix="batches/")
    return {item["Key"].split("/")[1] for page in pages for item in page.get("Contents", [])}


def current_uploads(stack: StackOutputs) -> set[tuple[str, str]]:
    """(key, version id) of each object under incoming/ that is still the current version, not deleted."""
    pages = (
        boto3.client("s3").get_paginator("list_object_versions").paginate(Bucket=stack.bucket_name, Prefix="incoming/")
    )
    return {
        (version["Key"], version["VersionId"])
        for page in pages
        for version in page.get("Versions", [])
        if version["IsLatest"]
    }
