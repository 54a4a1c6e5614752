"""In-memory fakes at the ports (shared/credits_pipeline/ports.py), for the domain tests.

Each keeps the semantics of the adapter it stands for (S3, DynamoDB, SQS, CloudZero) and records what
it was asked, so a test can assert what an operator would see. No boto3, no network.
"""

import hashlib
import io
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from credits_pipeline.domain.alerts import Alert
from credits_pipeline.domain.cbf import DropBody, MonthLimit
from credits_pipeline.domain.messages import MonthMessage
from credits_pipeline.domain.report import RunReport, utc_now
from credits_pipeline.formats import ParseConfig
from credits_pipeline.services.ports import (
    REPLAYED,
    Download,
    DropReceipt,
    MonthPointer,
    Outcome,
    Remaining,
    StoredObject,
)
from credits_pipeline.services.pusher import Pusher, PushResult
from credits_pipeline.services.report_book import ReportBook
from credits_pipeline.services.splitter import Splitter, Upload

MAX_CONFLICTS = 20  # as file_records.FileRecords


class InMemoryOnce:
    """The same contract without DynamoDB, for service tests: the fake of the Once port."""

    def __init__(self) -> None:
        self.outcomes: dict[str, Outcome] = {}

    def register(self, context: LambdaContext) -> None:
        return None

    def __call__(self, key: str, action: Callable[[], Outcome]) -> Outcome:
        if key in self.outcomes:
            return {**self.outcomes[key], REPLAYED: True}
        outcome = action()
        self.outcomes[key] = outcome
        return outcome

    def forget(self, key: str) -> None:
        self.outcomes.pop(key, None)


class _FaultyStream(io.BytesIO):
    """Bytes whose reading fails with `fault` after the first read, as a dying host's disk would."""

    def __init__(self, data: bytes, fault: BaseException) -> None:
        super().__init__(data)
        self._fault = fault
        self._reads = 0

    def _count(self) -> None:
        self._reads += 1
        if self._reads > 1:
            raise self._fault

    def read(self, size: int | None = -1, /) -> bytes:
        self._count()
        return super().read(size)

    def read1(self, size: int | None = -1, /) -> bytes:
        self._count()
        return super().read1(size)

    def readinto(self, buffer: Any, /) -> int:
        self._count()
        return super().readinto(buffer)


class FakeObjectStore:
    """S3: objects by (bucket, key); every object's current tag set, and every tagging call."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.tags: dict[tuple[str, str], dict[str, str]] = {}
        self.tag_calls: list[tuple[str, str, str | None, dict[str, str]]] = []
        # A fault the next downloads raise while being read (a full disk, no memory left): not the file's fault.
        self.read_fault: BaseException | None = None
        self.written: dict[tuple[str, str], datetime] = {}  # when each object was last written
        self.denied_buckets: set[str] = set()  # buckets whose objects this role may not read (AccessDenied)

    def put(self, bucket: str, key: str, data: bytes) -> None:
        """What an upload does (the test's side of S3)."""
        self.objects[(bucket, key)] = data
        self.written[(bucket, key)] = datetime.now(UTC)

    def modified_since(self, bucket: str, prefix: str, since: datetime) -> bool:
        return any(at >= since for _, at in self.listing(bucket, prefix))

    def listing(self, bucket: str, prefix: str) -> Iterator[tuple[str, datetime]]:
        for (b, k), at in sorted(self.written.items()):
            if b == bucket and k.startswith(prefix) and (b, k) in self.objects:
                yield k, at

    def download(self, bucket: str, key: str, version_id: str | None = None) -> Download:
        data = self.objects[(bucket, key)]  # KeyError as S3's NoSuchKey
        stream = _FaultyStream(data, self.read_fault) if self.read_fault else io.BytesIO(data)
        return Download(stream, hashlib.sha256(data).hexdigest(), len(data), version_id)

    def head(self, bucket: str, key: str) -> StoredObject | None:
        if bucket in self.denied_buckets:
            raise PermissionError(f"AccessDenied: HeadObject s3://{bucket}/{key}")
        data = self.objects.get((bucket, key))
        return None if data is None else StoredObject(etag=hashlib.md5(data).hexdigest(), size=len(data))

    def get_json(self, bucket: str, key: str) -> bytes | None:
        return self.objects.get((bucket, key))

    def put_json(self, bucket: str, key: str, body: bytes | dict[str, Any], *, sha256: str | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body, indent=2).encode()
        if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
            raise ValueError(f"BadDigest: s3://{bucket}/{key} does not have sha256 {sha256}")
        self.objects[(bucket, key)] = data

    def tag(self, bucket: str, key: str, version_id: str | None, tags: dict[str, str]) -> None:
        # PutObjectTagging replaces the whole tag set.
        self.tags[(bucket, key)] = dict(tags)
        self.tag_calls.append((bucket, key, version_id, dict(tags)))

    def keys(self, prefix: str = "") -> list[str]:
        return sorted(key for _, key in self.objects if key.startswith(prefix))


class RecordConflict(RuntimeError):
    """As file_records.RecordConflict."""


class FakeFileRecords:
    """DynamoDB's file records (report JSON under optimistic locking) and month pointers."""

    def __init__(self) -> None:
        self.reports: dict[str, str] = {}  # sha256 -> RunReport JSON; its `version` is the lock
        self.months: dict[str, dict[str, str]] = {}  # month -> the item's attributes
        self.exports: dict[str, tuple[str, str]] = {}  # manifest URI -> (its SHA-256, the export's identity)

    def load(self, sha256: str) -> RunReport | None:
        stored = self.reports.get(sha256)
        return None if stored is None else RunReport.model_validate_json(stored)

    def update(
        self, sha256: str, change: Callable[[RunReport], object], new: Callable[[], RunReport] | None = None
    ) -> RunReport:
        for _ in range(MAX_CONFLICTS):
            report = self.load(sha256)
            if report is None:
                if new is None:
                    raise KeyError(f"no record of file {sha256}")
                report = new()
            previous = report.version
            change(report)
            report.version = previous + 1
            report.updated_at = utc_now()
            # The conditional put: attribute_not_exists(id) for a new record, else version = previous.
            if self.version(sha256) != previous or (previous == 0 and sha256 in self.reports):
                continue
            self.reports[sha256] = report.model_dump_json()
            return report
        raise RecordConflict(f"file {sha256}: {MAX_CONFLICTS} concurrent updates in a row")

    def version(self, sha256: str) -> int:
        report = self.load(sha256)
        return 0 if report is None else report.version

    def accept_month(
        self, month: str, sha256: str, bucket: str, key: str, accepted_at: str, *, force: bool = False
    ) -> bool:
        current = self.months.get(month)
        if not force and current is not None and not current["accepted_at"] <= accepted_at:
            return False
        # UpdateItem SET: the push attributes stay.
        self.months[month] = {
            **(current or {}),
            "sha256": sha256,
            "bucket": bucket,
            "key": key,
            "accepted_at": accepted_at,
        }
        return True

    def month_pointer(self, month: str) -> MonthPointer | None:
        values = self.months.get(month)
        if values is None:
            return None
        return MonthPointer(
            month=month,
            sha256=values["sha256"],
            bucket=values["bucket"],
            key=values["key"],
            accepted_at=values["accepted_at"],
            pushed_sha256=values.get("pushed_sha256"),
            drop_id=values.get("drop_id"),
        )

    def record_push(self, month: str, sha256: str, drop_id: str) -> None:
        self.months[month] = {**self.months.get(month, {}), "pushed_sha256": sha256, "drop_id": drop_id}

    def export_accepted(self, manifest: str) -> tuple[str, str] | None:
        return self.exports.get(manifest)

    def record_export(self, manifest: str, manifest_sha256: str, identity: str) -> None:
        self.exports[manifest] = (manifest_sha256, identity)

    def every_report(self) -> Iterator[RunReport]:
        for stored in list(self.reports.values()):
            yield RunReport.model_validate_json(stored)


@dataclass(frozen=True)
class Sent:
    body: str
    deduplication_id: str
    reason: str

    @property
    def message(self) -> MonthMessage:
        return MonthMessage.model_validate_json(self.body)


class PointerMovesAfterItIsRead:
    """The pusher's file records, where `between` runs right after the first month pointer is read: the instant
    another Lambda moves the pointer, before the pusher acts on what it read."""

    def __init__(self, records: FakeFileRecords, between: Callable[[], object]) -> None:
        self._records, self._between, self._fired = records, between, False

    def month_pointer(self, month: str) -> MonthPointer | None:
        pointer = self._records.month_pointer(month)
        if not self._fired:
            self._fired = True
            self._between()
        return pointer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._records, name)


class FakeMonthQueue:
    """SQS: every message sent, in order (no FIFO de-duplication: a test sees every send)."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self._failures: list[BaseException | None] = []

    def fail_next(self, error: BaseException, times: int = 1, after: int = 0) -> None:
        """Raise `error` instead of sending, for `times` sends, `after` sends from now (a BaseException: the
        function stopped mid-send)."""
        self._failures.extend([None] * after + [error] * times)

    def send(self, message: MonthMessage, deduplication_id: str, reason: str = "") -> str:
        return self.send_raw(message.model_dump_json(), deduplication_id, reason)

    def send_raw(self, body: str, deduplication_id: str, reason: str = "") -> str:
        failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            raise failure
        self.sent.append(Sent(body, deduplication_id, reason))
        return f"message-{len(self.sent)}"

    @property
    def messages(self) -> list[MonthMessage]:
        return [sent.message for sent in self.sent]


@dataclass(frozen=True)
class Call:
    """One post_drop: what was sent and how it ended (a drop id, or the exception raised)."""

    month: str
    operation: str
    rows: list[dict[str, str]]
    delivery_id: str
    drop_id: str | None
    error: Exception | None
    applied: bool = False  # a ghost write: CloudZero applied it although the call failed


@dataclass(frozen=True)
class _Ghost:
    error: Exception


@dataclass
class FakeCloudZero:
    """AnyCost Stream for one connection: each month's current rows, replaced or added to per drop."""

    rows: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    _failures: list[Exception | _Ghost | None] = field(default_factory=list)
    read_failures: list[Exception] = field(default_factory=list)  # what the next read-backs raise
    # What CloudZero holds drifts from what it accepted (a row altered or lost after the answer).
    drift: Callable[[list[dict[str, str]]], list[dict[str, str]]] | None = None  # None: that call succeeds
    _ids: "itertools.count[int]" = field(default_factory=lambda: itertools.count(1))

    def fail_next(self, error: Exception, times: int = 1, after: int = 0) -> None:
        """Raise `error` (CloudZeroRejected, CloudZeroUnavailable, ...) for `times` calls, `after` calls from now."""
        self._failures.extend([None] * after + [error] * times)

    def ghost_next(self, error: Exception, times: int = 1, after: int = 0) -> None:
        """Apply the drop, then raise `error` as if it failed (a "ghost write"), for `times` calls."""
        self._failures.extend([None] * after + [_Ghost(error)] * times)

    def post_drop(self, body: DropBody, delivery_id: str, remaining: Remaining) -> DropReceipt:
        drop = json.loads(body.body)
        month, operation, data = drop["month"][:7], drop.get("operation", "replace_drop"), drop["data"]
        error = self._failures.pop(0) if self._failures else None
        if isinstance(error, _Ghost):
            self._apply(month, operation, data)
            self.calls.append(Call(month, operation, data, delivery_id, None, error.error, applied=True))
            raise error.error
        if error is not None:
            self.calls.append(Call(month, operation, data, delivery_id, None, error))
            raise error
        drop_id = f"drop-{next(self._ids)}"
        self._apply(month, operation, data)
        self.calls.append(Call(month, operation, data, delivery_id, drop_id, None))
        return DropReceipt(drop_id, month, len(data))

    def month_rows(self, month: str, remaining: Remaining) -> list[dict[str, str]]:
        if self.read_failures:
            raise self.read_failures.pop(0)
        rows = [dict(row) for row in self.rows.get(month, [])]
        return self.drift(rows) if self.drift else rows

    def _apply(self, month: str, operation: str, data: list[dict[str, str]]) -> None:
        self.rows[month] = data if operation == "replace_drop" else [*self.rows.get(month, []), *data]

    def month_total(self, month: str) -> Decimal:
        return sum((Decimal(row["cost/cost"]) for row in self.rows.get(month, [])), Decimal(0))

    def calls_for(self, month: str) -> list[Call]:
        return [call for call in self.calls if call.month == month]

    @property
    def drops(self) -> list[Call]:
        """The calls CloudZero accepted."""
        return [call for call in self.calls if call.error is None]


class FakeNotifier:
    """The notification topic: every alert published, in order."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []
        self.refusals = 0  # the next publishes the topic refuses (throttling, an outage)

    def notify(self, alert: Alert) -> bool:
        if self.refusals:
            self.refusals -= 1
            return False
        self.alerts.append(alert)
        return True

    def kinds(self) -> list[str]:
        return [alert.kind for alert in self.alerts]


BUCKET = "credits-bucket"


@dataclass
class World:
    """Splitter and pusher wired with the fakes, sharing them as the deployed functions share AWS."""

    config: ParseConfig = field(default_factory=ParseConfig)
    month_limit: MonthLimit = field(default_factory=MonthLimit)
    objects: FakeObjectStore = field(default_factory=FakeObjectStore)
    records: FakeFileRecords = field(default_factory=FakeFileRecords)
    queue: FakeMonthQueue = field(default_factory=FakeMonthQueue)
    dead_letters: FakeMonthQueue = field(default_factory=FakeMonthQueue)
    cloudzero: FakeCloudZero = field(default_factory=FakeCloudZero)
    notifier: FakeNotifier = field(default_factory=FakeNotifier)
    splitter_once: InMemoryOnce = field(default_factory=InMemoryOnce)
    pusher_once: InMemoryOnce = field(default_factory=InMemoryOnce)

    def __post_init__(self) -> None:
        self.splitter = Splitter(
            objects=self.objects,
            records=self.records,
            reports=ReportBook(records=self.records, objects=self.objects),
            queue=self.queue,
            once=self.splitter_once,
            config=self.config,
            notifier=self.notifier,
            month_limit=self.month_limit,
        )
        self.pusher = Pusher(
            objects=self.objects,
            records=self.records,
            reports=ReportBook(records=self.records, objects=self.objects),
            dead_letters=self.dead_letters,
            once=self.pusher_once,
            cloudzero=self.cloudzero,
            notifier=self.notifier,
        )

    def upload(self, key: str, data: bytes, event_time: str = "2026-03-01T09:00:00.000Z", **extra: Any) -> RunReport:
        """Put the bytes under `key` and deliver the ObjectCreated event to the splitter."""
        self.objects.put(BUCKET, key, data)
        upload = Upload(bucket=BUCKET, key=key, size=len(data), event_time=event_time, **extra)
        report = self.splitter.split_upload(upload)
        assert report is not None, f"{key} is outside the splitter's incoming prefix"
        return report

    def deliver(self, body: str, delivery_id: str = "delivery-1", *, last_attempt: bool = False) -> PushResult:
        """One SQS delivery of a month message to the pusher, with plenty of time left."""
        return self.pusher.handle_message(body, delivery_id, lambda: 60.0, last_attempt=last_attempt)

    def report(self, sha256: str) -> RunReport:
        """The file's record (the truth the S3 copy is published from)."""
        report = self.records.load(sha256)
        assert report is not None, f"no record of file {sha256}"
        return report

    def published_report(self, sha256: str) -> dict[str, Any]:
        """The report as an operator reads it: `reports/<sha256>.json` in the bucket."""
        loaded: dict[str, Any] = json.loads(self.objects.objects[(BUCKET, f"reports/{sha256}.json")])
        return loaded
