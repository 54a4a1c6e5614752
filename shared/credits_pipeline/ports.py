"""The ports the splitter and pusher talk through: S3, SQS, DynamoDB and CloudZero each behind one.

The adapters (object_store, month_queue, file_records, cloudzero) implement them for real; the tests'
in-memory fakes implement them for the domain tests.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

from credits_pipeline.cbf import DropBody
from credits_pipeline.month_batch import MonthMessage
from credits_pipeline.report import RunReport

Remaining = Callable[[], float]


@dataclass
class Download:
    """The object's bytes in a seekable spooled file, with their SHA-256 and S3 version."""

    data: BinaryIO
    sha256: str
    size: int
    version_id: str | None

    def close(self) -> None:
        self.data.close()


@dataclass(frozen=True)
class MonthPointer:
    """Which file is the truth for a month: the latest accepted upload, unless an operator replays another."""

    month: str
    sha256: str
    bucket: str
    key: str
    accepted_at: str
    pushed_sha256: str | None = None
    drop_id: str | None = None


class ObjectStorePort(Protocol):
    def download(self, bucket: str, key: str, version_id: str | None = None) -> Download: ...
    def get_json(self, bucket: str, key: str) -> bytes | None: ...
    def put_json(self, bucket: str, key: str, body: bytes | dict[str, Any]) -> None: ...
    def tag(self, bucket: str, key: str, version_id: str | None, tags: dict[str, str]) -> None: ...


class FileRecordsPort(Protocol):
    def load(self, sha256: str) -> RunReport | None: ...
    def update(
        self, sha256: str, change: Callable[[RunReport], None], new: Callable[[], RunReport] | None = None
    ) -> RunReport: ...
    def version(self, sha256: str) -> int: ...
    def accept_month(
        self, month: str, sha256: str, bucket: str, key: str, accepted_at: str, *, force: bool = False
    ) -> bool: ...
    def month_pointer(self, month: str) -> MonthPointer | None: ...
    def record_push(self, month: str, sha256: str, drop_id: str) -> None: ...


class MonthQueuePort(Protocol):
    def send(self, message: MonthMessage, deduplication_id: str, reason: str = "") -> str: ...
    def send_raw(self, body: str, deduplication_id: str, reason: str = "") -> str: ...


class DropReceiptLike(Protocol):
    @property
    def drop_id(self) -> str: ...
    @property
    def row_count(self) -> int: ...


class CloudZeroPort(Protocol):
    def post_drop(self, body: DropBody, delivery_id: str, remaining: Remaining) -> DropReceiptLike: ...
