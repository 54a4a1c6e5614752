"""The S3 adapter against moto's server: a chunk goes with its SHA-256, for S3 to check on arrival."""

import base64
import hashlib
import uuid
from typing import Any

import boto3
import pytest

from credits_pipeline.adapters.s3 import ObjectStore


@pytest.fixture
def bucket(aws_endpoint: str) -> str:
    name = f"objects-{uuid.uuid4().hex[:8]}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


def test_a_body_goes_with_its_sha256_as_the_checksum_s3_verifies_and_no_other(bucket: str) -> None:
    client = boto3.client("s3")
    sent: list[dict[str, str]] = []

    def capture(request: Any, **_: Any) -> None:
        sent.append({name.lower(): _text(value) for name, value in request.headers.items()})

    client.meta.events.register("before-send.s3.PutObject", capture)
    store = ObjectStore(client=client)
    body = b'{"month":"2026-01-01T00:00:00Z","operation":"replace_drop","data":[]}'

    store.put_json(bucket, "batches/chunk-0000.json", body, sha256=hashlib.sha256(body).hexdigest())

    assert store.get_json(bucket, "batches/chunk-0000.json") == body
    # Real S3 refuses a body whose bytes do not have this checksum (moto stores it unchecked).
    [headers] = sent
    assert headers["x-amz-checksum-sha256"] == base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert not [name for name in headers if name.startswith("x-amz-checksum-") and name != "x-amz-checksum-sha256"]


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
