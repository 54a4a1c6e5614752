"""The ports the splitter and pusher talk through: S3, SQS, DynamoDB, CloudZero and run-once, each behind one.

`credits_pipeline.adapters` implements them for real; `tests/fakes.py` has one in-memory fake per port.
What crosses a port (receipts, the errors a service must tell apart) is defined here, not in an adapter.
"""

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO, Protocol

from aws_lambda_powertools.utilities.typing import LambdaContext

from credits_pipeline.domain.alerts import Alert
from credits_pipeline.domain.cbf import DropBody
from credits_pipeline.domain.messages import MonthMessage
from credits_pipeline.domain.report import RunReport

# Seconds left before the invocation's deadline.
Remaining = Callable[[], float]
# What a run-once action returns; a replayed outcome carries REPLAYED = True.
Outcome = dict[str, Any]
REPLAYED = "replayed"


@dataclass(frozen=True)
class DropReceipt:
    """CloudZero accepted a billing drop."""

    drop_id: str
    month: str
    row_count: int


@dataclass(frozen=True)
class Validation:
    is_valid: bool
    errors: list[str]


class CloudZeroRejected(Exception):
    """A final answer (400/403/404/413): sending the same thing again cannot succeed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"CloudZero answered {status}: {message}")
        self.status = status
        self.message = message


class CloudZeroUnavailable(Exception):
    """Retryable failures until the time ran out: the month goes back to the queue."""


class OutcomeUnknown(CloudZeroUnavailable):
    """A chunk sent whose outcome is unknown: no answer (a timeout, a broken connection), or a 5xx answer (a
    gateway may give up on a backend still applying it). CloudZero may still be working on it, and may apply
    it after anything sent next (a `sum` twice, or a `replace_drop` wiping the chunks after it). Nothing more
    goes to the connection in this delivery: the month returns to the queue and starts over from its
    `replace_drop` once the queue's visibility timeout has passed.
    """


@dataclass
class Download:
    """The object's bytes in a seekable spooled file, with their SHA-256 and S3 version."""

    data: BinaryIO
    sha256: str
    size: int
    version_id: str | None
    # When the file was first uploaded, if the object is an operator's reprocess copy of it (S3's event is the copy's).
    uploaded_at: str | None = None

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


@dataclass(frozen=True)
class StoredObject:
    """What S3 says of an object without reading it."""

    etag: str
    size: int
    # When the file was first uploaded, if the object is an operator's reprocess copy of it.
    uploaded_at: str | None = None


class ObjectStorePort(Protocol):
    def download(self, bucket: str, key: str, version_id: str | None = None) -> Download: ...
    def head(self, bucket: str, key: str) -> StoredObject | None: ...
    def modified_since(self, bucket: str, prefix: str, since: datetime) -> bool:
        """Whether any object under `prefix` was written at or after `since`."""
        ...

    def listing(self, bucket: str, prefix: str) -> Iterator[tuple[str, datetime]]:
        """(key, last written) of every object under `prefix`."""
        ...

    def get_json(self, bucket: str, key: str) -> bytes | None: ...
    def put_json(self, bucket: str, key: str, body: bytes | dict[str, Any], *, sha256: str | None = None) -> None:
        """Store `body`; with `sha256` (hex), the store refuses a body that arrives with another hash."""
        ...

    def tag(self, bucket: str, key: str, version_id: str | None, tags: dict[str, str]) -> None: ...


class NotifierPort(Protocol):
    def notify(self, alert: Alert) -> bool:
        """Tell a person (email, Slack): True once the topic has it (or there is no topic: it is only logged).
        Never raises: an alert the topic refuses is logged and counted (AlertsNotDelivered), and False says so."""
        ...


class FileRecordsPort(Protocol):
    def load(self, sha256: str) -> RunReport | None: ...
    def update(
        self, sha256: str, change: Callable[[RunReport], object], new: Callable[[], RunReport] | None = None
    ) -> RunReport: ...
    def version(self, sha256: str) -> int: ...
    def accept_month(
        self, month: str, sha256: str, bucket: str, key: str, accepted_at: str, *, force: bool = False
    ) -> bool: ...
    def month_pointer(self, month: str) -> MonthPointer | None: ...
    def record_push(self, month: str, sha256: str, drop_id: str) -> None: ...
    def export_accepted(self, manifest: str) -> tuple[str, str] | None:
        """(the manifest's SHA-256, the export's identity) when the export at `manifest` (s3://...) was last
        accepted; None before."""
        ...

    def record_export(self, manifest: str, manifest_sha256: str, identity: str) -> None: ...
    def every_report(self) -> Iterator[RunReport]:
        """Every file's report, in no order (a few files a month, each kept IdempotencyDays)."""
        ...


class MonthQueuePort(Protocol):
    def send(self, message: MonthMessage, deduplication_id: str, reason: str = "") -> str: ...
    def send_raw(self, body: str, deduplication_id: str, reason: str = "") -> str: ...


class CloudZeroPort(Protocol):
    def post_drop(self, body: DropBody, delivery_id: str, remaining: Remaining) -> DropReceipt:
        """Send one body. One whose outcome is unknown raises OutcomeUnknown: nothing more may be sent now."""
        ...

    def month_rows(self, month: str, remaining: Remaining) -> Iterable[Mapping[str, object]]:
        """The CBF rows CloudZero holds for the month (none without a drop), yielded as they are read:
        the request is made at the call, the rows may arrive while they are iterated."""
        ...


class Once(Protocol):
    """Run an action once per key (Powertools Idempotency on DynamoDB in production)."""

    def register(self, context: LambdaContext) -> None:
        """Tie in-progress records to the invocation's deadline."""
        ...

    def __call__(self, key: str, action: Callable[[], Outcome]) -> Outcome:
        """The action's outcome; a key seen before returns the first outcome with `replayed` set."""
        ...

    def forget(self, key: str) -> None:
        """Delete the key's record: the next call runs the action again."""
        ...
