"""S3: download an upload while hashing it, store batches and reports, tag objects."""

import base64
import hashlib
import json
import tempfile
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from credits_pipeline.adapters.aws_clients import aws_client
from credits_pipeline.services.ports import Download, StoredObject

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CHUNK_BYTES = 1024 * 1024
# Metadata `credits-reprocess` gives its copy of an upload (a copy onto itself is a new object to S3): when
# it was reprocessed, and when the file itself was first uploaded (what the watchdog's "this month's file" means).
REPROCESSED_AT = "credits-pipeline-reprocessed-at"
UPLOADED_AT = "credits-pipeline-uploaded-at"
# Up to this size a download stays in memory; beyond, it spills to /tmp (EphemeralStorage).
SPOOL_MEMORY_BYTES = 8 * 1024 * 1024


class ObjectStore:
    def __init__(self, client: "S3Client | None" = None) -> None:
        self._s3 = client or aws_client("s3")

    def download(self, bucket: str, key: str, version_id: str | None = None) -> Download:
        """Stream the object to a spooled file: memory stays flat whatever the file's size."""
        extra: dict[str, Any] = {"VersionId": version_id} if version_id else {}
        response = self._s3.get_object(Bucket=bucket, Key=key, **extra)
        digest = hashlib.sha256()
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)  # noqa: SIM115 - Download owns it
        size = 0
        for chunk in response["Body"].iter_chunks(CHUNK_BYTES):
            digest.update(chunk)
            spool.write(chunk)
            size += len(chunk)
        spool.seek(0)
        return Download(spool, digest.hexdigest(), size, response.get("VersionId"), _uploaded_at(response))  # type: ignore[arg-type]

    def head(self, bucket: str, key: str) -> StoredObject | None:
        try:
            answer = self._s3.head_object(Bucket=bucket, Key=key)
        except self._s3.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return StoredObject(
            etag=str(answer["ETag"]).strip('"'), size=int(answer["ContentLength"]), uploaded_at=_uploaded_at(answer)
        )

    def modified_since(self, bucket: str, prefix: str, since: datetime) -> bool:
        """Whether a file was uploaded under `prefix` since `since`; a reprocess's copy of an older one was not
        (its first upload's time is read only for objects S3 lists as written since)."""
        # S3 lists by name, not by date: the incoming folder is small, so a full listing is cheap.
        for key, written in self.listing(bucket, prefix):
            if written >= since:
                stored = self.head(bucket, key)
                first = _as_time(stored.uploaded_at if stored else None) or written
                if first >= since:
                    return True
        return False

    def listing(self, bucket: str, prefix: str) -> Iterator[tuple[str, datetime]]:
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"], item["LastModified"]

    def get_json(self, bucket: str, key: str) -> bytes | None:
        try:
            return self._s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except self._s3.exceptions.NoSuchKey:
            return None

    def load_json(self, uri: str) -> object:
        """A JSON document at an s3://bucket/key URI (configuration such as column mappings)."""
        bucket, key = parse_s3_uri(uri)
        raw = self.get_json(bucket, key)
        if raw is None:
            raise ValueError(f"{uri} not found")
        return json.loads(raw)

    def put_json(self, bucket: str, key: str, body: bytes | dict[str, Any], *, sha256: str | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body, indent=2).encode()
        # With the body's SHA-256 given, S3 refuses a body that arrives otherwise (BadDigest), and botocore
        # computes no checksum of its own over a body already hashed (5 MB a chunk).
        checksum: dict[str, Any] = (
            {"ChecksumSHA256": base64.b64encode(bytes.fromhex(sha256)).decode()} if sha256 else {}
        )
        self._s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="application/json", **checksum)

    def tag(self, bucket: str, key: str, version_id: str | None, tags: dict[str, str]) -> None:
        """Show a file's state in the S3 console (tag values allow a limited character set)."""
        tag_set = [{"Key": name, "Value": _tag_value(value)} for name, value in tags.items()]
        extra: dict[str, Any] = {"VersionId": version_id} if version_id else {}
        self._s3.put_object_tagging(Bucket=bucket, Key=key, Tagging={"TagSet": tag_set}, **extra)  # type: ignore[typeddict-item]


def _tag_value(value: str) -> str:
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 +-=._:/@")
    return "".join(char if char in allowed else " " for char in value)[:256]


def parse_s3_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not uri.startswith("s3://") or not bucket or not key:
        raise ValueError(f"not an s3://bucket/key URI: {uri!r}")
    return bucket, key


def _uploaded_at(answer: Any) -> str | None:
    """The first upload's time a reprocess copy carries (see UPLOADED_AT), as S3 writes an event's time."""
    return answer.get("Metadata", {}).get(UPLOADED_AT) or None


def _as_time(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:  # edited by hand: the object's own time stands
        return None
