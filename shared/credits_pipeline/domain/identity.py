"""Every identity and key the pipeline stores or sends, in one place.

Stored records are found by these strings: changing one orphans every record written before. A test
pins each scheme to a literal value.
"""

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Protocol

from credits_pipeline.domain.months import key_months

SHA256_PATTERN = r"^[0-9a-f]{64}$"


def file_identity(content_sha256: str, key: str) -> str:
    """The hash a file is known by: its bytes' SHA-256, bound to the months its key names, if any.

    A headerless file takes its month from its key, so the same bytes uploaded as
    `credits-2026-01.csv` and `incoming/2026-02/credits.csv` are two months' credits, not a duplicate.
    The same bytes under another key naming the same months are a duplicate.
    """
    named = key_months(key)
    if not named:
        return content_sha256
    return hashlib.sha256(f"{content_sha256}|{','.join(named)}".encode()).hexdigest()


def batch_key(sha256: str, month: str) -> str:
    """Where the splitter stores a month's batch (its manifest, since schema version 2) in the bucket."""
    return f"batches/{sha256}/{month}.json"


def chunk_key(sha256: str, month: str, chunk: int) -> str:
    """Where the splitter stores one prepared body of a month, beside the month's manifest."""
    return f"batches/{sha256}/{month}/chunk-{chunk:04d}.json"


def report_key(sha256: str) -> str:
    """Where a file's run report is published in the bucket."""
    return f"reports/{sha256}.json"


def push_key(sha256: str, month: str, replay_id: str | None = None) -> str:
    """The idempotency key of one month's push: the file, the month, and a replay's own id."""
    return f"{sha256}#{month}#{replay_id or 'upload'}"


def month_message_dedup_id(sha256: str, month: str, replay_id: str | None = None) -> str:
    """SQS FIFO de-duplication of a month message: one per upload's month, one per replay."""
    return f"{sha256}-{month}-replay-{replay_id}" if replay_id else f"{sha256}-{month}"


def reupload_replay_id(upload_id: str) -> str:
    """The new push of a month whose truth is again a file uploaded before (its bytes uploaded again): one
    per upload, so a retried event queues it once (FIFO de-duplication, then the pusher's record of it)."""
    return "reupload-" + hashlib.sha256(upload_id.encode()).hexdigest()[:32]


def dead_letter_dedup_id(push: str, delivery_id: str) -> str:
    """A month moved to the DLQ by the pusher (final failure), once per delivery."""
    return f"{push}-final-{delivery_id}"


def unreadable_dedup_id(delivery_id: str) -> str:
    """A message no pusher can read, moved to the DLQ once per delivery."""
    return f"unreadable-{delivery_id}"


def delivery_id(message_id: str, receive_count: int | str) -> str:
    """One delivery of a queue message: a redelivery is a new delivery of the same month."""
    return f"{message_id}:{receive_count}"


def drop_request_key(
    connection_id: str, month: str, chunk: int, body_sha256: str, *, delivery: str, generation: int
) -> str:
    """`cloudzero-idempotency-key`: unique to connection, month, chunk, body, delivery and error-answer count."""
    parts = [connection_id, month, str(chunk), body_sha256, delivery, str(generation)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def s3_event_time(moment: datetime) -> str:
    """A moment written as S3 writes an event's time (`2026-02-01T09:00:00.000Z`), so that the two sort alike."""
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def upload_order(event_time: str, sequencer: str = "") -> str:
    """A string that sorts uploads in the order S3 made them: event time across keys, then S3's
    `sequencer` (hex, ordered for one key; padded so that strings compare as numbers) within one instant."""
    return f"{event_time}#{sequencer.upper().zfill(32)}" if sequencer else event_time


class StoredPart(Protocol):
    """What S3 says of an export's part without reading it."""

    @property
    def etag(self) -> str: ...

    @property
    def size(self) -> int: ...


def export_identity(manifest_sha256: str, parts: Mapping[tuple[str, str], StoredPart]) -> str:
    """A multi-file export is known by its manifest's bytes and its parts as stored: (bucket, key) -> ETag and
    size. A restated export (new parts, a new manifest) is a new identity; a re-delivered event is not."""
    listed = "|".join(f"{bucket}/{key}#{part.etag}#{part.size}" for (bucket, key), part in sorted(parts.items()))
    return hashlib.sha256(f"export|{manifest_sha256}|{listed}".encode()).hexdigest()
