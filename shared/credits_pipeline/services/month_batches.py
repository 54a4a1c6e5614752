"""A month's batch in S3: the splitter stores its CloudZero bodies once, the pusher reads and sends them.

Schema version 2 (written): each chunk body is its own object, exactly the bytes to POST, and a small
manifest at `batch_key` lists them with size, SHA-256, rows, operation and total. The pusher checks
every chunk against the manifest before sending any, and holds one chunk at a time.
Schema version 1 (read only, for messages queued before version 2): one `MonthBatch` JSON with every
account's credit, turned into bodies by the pusher.
"""

import hashlib
import io
import json
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Annotated, Protocol

from pydantic import Field, TypeAdapter, ValidationError

from credits_pipeline.domain.cbf import DropBody, MonthLimit, PreparedBody, drop_bodies, prepare_bodies
from credits_pipeline.domain.credits import MonthCredits, exact_sum
from credits_pipeline.domain.identity import batch_key, chunk_key
from credits_pipeline.domain.messages import (
    MESSAGE_VERSIONS,
    ChunkRef,
    FileRef,
    MonthBatch,
    MonthManifest,
    MonthMessage,
)
from credits_pipeline.domain.money import format_money
from credits_pipeline.services.ports import ObjectStorePort


class BatchInvalid(Exception):
    """The month's batch is missing or is not the batch the message describes: final."""


class MonthBeyondLimit(Exception):
    """A month that is more than a CloudZero stream holds: refused before the rest of it is stored."""


def months_beyond(months: Mapping[str, MonthCredits], limit: MonthLimit) -> list[str]:
    """Why each month of more rows than `limit` cannot be sent: known before any body is written."""
    return [reason for month, credits in months.items() if (reason := limit.exceeded_by(month, credits.rows))]


def month_bodies(credits: MonthCredits, limit: MonthLimit) -> Iterator[PreparedBody]:
    """The month's bodies in order; raises MonthBeyondLimit as soon as they pass `limit` (the rest is never made)."""
    size = 0
    for prepared in prepare_bodies(credits.month, credits.to_send):
        size += len(prepared.body.body)
        if beyond := limit.exceeded_by(credits.month, credits.rows, size, so_far=True):
            raise MonthBeyondLimit(beyond)
        yield prepared


def beyond_limit_reason(reasons: list[str]) -> str:
    """Why a file with months beyond CloudZero's limit is rejected, and what the operator can do."""
    return (
        f"{'; '.join(reasons)}: nothing was sent. Split the file's accounts across CloudZero connections, or have "
        "CloudZero raise the limit and set CLOUDZERO_MONTH_MAX_ROWS / CLOUDZERO_MONTH_MAX_BYTES, then reprocess "
        "the file"
    )


# Chunk bodies uploading while the next is written: a month of a million accounts is ~40 bodies of 5 MB.
UPLOADS_IN_FLIGHT = 4


def store_month(
    objects: ObjectStorePort, bucket: str, file: FileRef, credits: MonthCredits, limit: MonthLimit | None = None
) -> MonthManifest:
    """Write the month's bodies, then its manifest (so a manifest's chunks are always there).

    Each body is uploaded in the background while the next one is written (at most UPLOADS_IN_FLIGHT held).
    Raises MonthBeyondLimit once the bodies pass `limit`'s bytes: the rest is neither written nor stored.
    """
    chunks = []
    with ThreadPoolExecutor(max_workers=UPLOADS_IN_FLIGHT, thread_name_prefix="chunk-upload") as uploads:
        in_flight: deque[Future[None]] = deque()
        for prepared in month_bodies(credits, limit or MonthLimit()):
            body = prepared.body
            key = chunk_key(file.sha256, credits.month, body.chunk)
            in_flight.append(uploads.submit(objects.put_json, bucket, key, body.body, sha256=body.sha256))
            chunks.append(
                ChunkRef(
                    key=key,
                    size=len(body.body),
                    sha256=body.sha256,
                    rows=body.rows,
                    operation=body.operation,
                    total=prepared.total,
                )
            )
            if len(in_flight) >= UPLOADS_IN_FLIGHT:
                in_flight.popleft().result()  # raises what the upload raised
        for upload in in_flight:
            upload.result()
    total = exact_sum(chunk.total for chunk in chunks)  # the credits' total, without another pass over them
    manifest = MonthManifest(file=file, month=credits.month, accounts=credits.accounts, total=total, chunks=chunks)
    objects.put_json(bucket, batch_key(file.sha256, credits.month), manifest.model_dump_json().encode())
    return manifest


class StoredMonth(Protocol):
    """A month as stored, whatever its schema version."""

    @property
    def chunks(self) -> int: ...

    def check(self) -> None:
        """Raise BatchInvalid unless every body can be sent as stored (before any is sent)."""
        ...

    def bodies(self) -> Iterator[DropBody]:
        """The bodies to send, in order; each call starts from the first."""
        ...

    def sent(self) -> Iterator[tuple[str, Decimal]]:
        """(account, cost) of every CBF row the bodies hold."""
        ...


# A stored batch of either schema version, told apart by its `schema_version`.
_STORED_BATCH: TypeAdapter[MonthBatch | MonthManifest] = TypeAdapter(
    Annotated[MonthBatch | MonthManifest, Field(discriminator="schema_version")]
)


def read_batch(objects: ObjectStorePort, bucket: str, key: str) -> MonthBatch | MonthManifest:
    """The batch stored at `key`, of either schema version."""
    raw = objects.get_json(bucket, key)
    if raw is None:
        raise BatchInvalid(f"batch s3://{bucket}/{key} is missing")
    try:
        return _STORED_BATCH.validate_json(raw)
    except ValidationError as error:
        [first, *_] = error.errors()
        if first["type"] == "union_tag_invalid":
            raise BatchInvalid(
                f"batch s3://{bucket}/{key} is schema_version {first['input'].get('schema_version')!r}: "
                f"this pusher reads {_versions()}"
            ) from None
        raise BatchInvalid(f"batch s3://{bucket}/{key} is unreadable: {error}") from None


def load_month(objects: ObjectStorePort, message: MonthMessage) -> StoredMonth:
    """The batch the message points at, checked against what the message says it holds."""
    stored = read_batch(objects, message.batch_bucket, message.batch_key)
    if stored.schema_version != message.schema_version:
        raise BatchInvalid(
            f"batch s3://{message.batch_bucket}/{message.batch_key} is schema_version {stored.schema_version}; "
            f"the message is schema_version {message.schema_version} and points at a batch of its own version"
        )
    if (stored.file.sha256, stored.month, stored.total, stored.accounts) != (
        message.file.sha256,
        message.month,
        message.total,
        message.accounts,
    ):
        raise BatchInvalid(
            f"batch {message.batch_key} holds {stored.accounts} accounts totalling {format_money(stored.total)}, "
            f"the message says {message.accounts} totalling {format_money(message.total)}"
        )
    if isinstance(stored, MonthBatch):
        return BatchMonth(stored)
    return PreparedMonth(objects, message.batch_bucket, stored)


def unknown_message_version(body: str) -> str | None:
    """Why a month message that failed validation is of a schema this pusher does not read, if it is."""
    try:
        version = json.loads(body).get("schema_version")
    except (ValueError, AttributeError):
        return None
    if version is None or version in MESSAGE_VERSIONS:
        return None  # of a version it reads, or of none at all: pydantic's own message says what is wrong
    return (
        f"schema_version {version!r}: this pusher reads {_versions()} (a newer splitter wrote it? "
        "deploy the matching pusher, then redrive the dead-letter queue)"
    )


def _versions() -> str:
    return " and ".join(str(version) for version in MESSAGE_VERSIONS)


@dataclass
class BatchMonth:
    """Schema version 1: every credit in one document; the bodies are built here, in memory."""

    batch: MonthBatch

    @property
    def chunks(self) -> int:
        return len(self._bodies)

    def check(self) -> None:
        # Built now, before the first send, as the pusher always did for a version-1 batch.
        self._bodies = drop_bodies(self.batch)

    def bodies(self) -> Iterator[DropBody]:
        return iter(self._bodies)

    def sent(self) -> Iterator[tuple[str, Decimal]]:
        return ((row.account_id, row.cost) for row in self.batch.credits)

    @cached_property
    def _bodies(self) -> list[DropBody]:
        return drop_bodies(self.batch)


@dataclass
class PreparedMonth:
    """Schema version 2: the stored bodies, read one at a time and checked against the manifest."""

    objects: ObjectStorePort
    bucket: str
    manifest: MonthManifest
    # A month of one body (most months) keeps it from `check` for the send: read once. A longer month
    # reads its first body again, so that `check` never holds one body while it reads the next.
    _first: bytes | None = None

    @property
    def chunks(self) -> int:
        return len(self.manifest.chunks)

    def check(self) -> None:
        if self.chunks == 1:
            self._first = self._read(self.manifest.chunks[0])
            return
        for chunk in self.manifest.chunks:
            self._read(chunk)  # checked, and let go before the next is read

    def bodies(self) -> Iterator[DropBody]:
        for index, chunk in enumerate(self.manifest.chunks):
            # One body held at a time (nothing here keeps the last while the next is read); a fresh start
            # reads the first again.
            first, self._first = self._first, None
            body = first if index == 0 and first is not None else self._read(chunk)
            yield DropBody(self.manifest.month, index, chunk.operation, chunk.rows, body)
            del body

    def sent(self) -> Iterator[tuple[str, Decimal]]:
        # Only a read-back needs the parser: not loaded at cold start (the splitter imports this module too).
        import ijson  # type: ignore[import-untyped]  # noqa: PLC0415

        for chunk in self.manifest.chunks:  # one body held at a time, its rows parsed one by one
            for row in ijson.items(io.BytesIO(self._read(chunk)), "data.item"):
                yield str(row["resource/account"]), Decimal(row["cost/cost"])

    def _read(self, chunk: ChunkRef) -> bytes:
        where = f"s3://{self.bucket}/{chunk.key}"
        body = self.objects.get_json(self.bucket, chunk.key)
        if body is None:
            raise BatchInvalid(f"chunk {where} of the {self.manifest.month} batch is missing")
        sha256 = hashlib.sha256(body).hexdigest()
        if (len(body), sha256) != (chunk.size, chunk.sha256):
            raise BatchInvalid(
                f"chunk {where} is not the body its manifest lists: {len(body)} bytes with sha256 {sha256}, "
                f"the manifest says {chunk.size} bytes with sha256 {chunk.sha256}"
            )
        return body
