"""The watchdog: what no upload event shows. A month with no file by its expected day, an export still
missing parts long after its manifest, and a splitter that failed on a file for good (Lambda's failure
destination), each told to a person once, readably.

Told once means delivered once: an alert the topic refuses is not recorded as told, and is told again on
the next run (or delivery of the failure record). One check that fails (an alert refused, an object it
cannot read) never keeps the others from running; the run then fails, after them, so that Lambda retries
it and WatchdogErrorsAlarm fires.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, partial
from typing import Any
from urllib.parse import unquote_plus

from credits_pipeline.domain import alerts
from credits_pipeline.domain.alerts import Alert, ExportWait, OperatorContext
from credits_pipeline.domain.exports import ExportKey, ManifestInvalid, export_key
from credits_pipeline.domain.identity import report_key
from credits_pipeline.domain.report import RunReport
from credits_pipeline.domain.text import safe_text
from credits_pipeline.services.export_delivery import export_delivery
from credits_pipeline.services.observability import logger, metrics
from credits_pipeline.services.ports import FileRecordsPort, MonthPointer, NotifierPort, ObjectStorePort, Once

# The file records, read when called: scanned once a run, shared by the checks that read them.
Reports = Callable[[], list[RunReport]]


class AlertNotDelivered(Exception):
    """The topic refused an alert: it is not recorded as told, so the next run tells it again."""


class ChecksFailed(Exception):
    """Some of a run's checks failed (each is in the log); the others ran."""


@dataclass
class _Run:
    """One run's failed checks: each is logged as it fails, and the run fails after the rest have run."""

    failures: list[str] = field(default_factory=list)

    def guard[T](self, what: str, check: Callable[[], T]) -> T | None:
        try:
            return check()
        except Exception as error:
            logger.exception("watchdog check failed; the other checks go on", extra={"check": what})
            self.failures.append(f"{what}: {type(error).__name__}: {error}")
            return None

    def end(self) -> None:
        if self.failures:
            raise ChecksFailed(f"{len(self.failures)} check(s) failed: " + "; ".join(self.failures[:5]))


@dataclass
class Watchdog:
    objects: ObjectStorePort
    notifier: NotifierPort
    once: Once
    bucket: str
    incoming_prefix: str
    # Day of the month by which a file is expected; None: the check is off.
    expect_file_by_day: int | None = None
    # How long a multi-file export may wait for its parts before a person is told.
    export_wait_hours: int = 24
    operator: OperatorContext = field(default_factory=OperatorContext)
    # Which parts each export was last read with (the splitter's record): to tell of a refresh left half-done;
    # and every file's report: to tell of a month never pushed.
    records: FileRecordsPort | None = None
    # How long a month of the file that is its truth may stay unpushed (pending, or failed) before a person is
    # told: a day, past the queue's retries (5 receives, about an hour).
    month_wait_hours: int = 24

    def run_checks(self, now: datetime | None = None) -> dict[str, object]:
        """The scheduled run: every check, whatever another one meets; raises ChecksFailed after them."""
        run = _Run()
        reports = cache(self._every_report)  # scanned once a run, by the first check that needs the records
        late = run.guard("a month with no file", partial(self.check_expected_file, now, reports))
        waiting = run.guard("exports waiting", partial(self.check_waiting_exports, now)) or []
        stuck = run.guard("months never pushed", partial(self.check_stuck_months, now, reports)) or []
        metrics.add_metric(name="MonthsStuck", unit="Count", value=len(stuck))
        # What each run found, as numbers a dashboard can show (and never an empty set of metrics).
        metrics.add_metric(name="FileLate", unit="Count", value=int(late is True))
        metrics.add_metric(name="ExportsWaiting", unit="Count", value=len(waiting))
        metrics.add_metric(name="WatchdogChecksFailed", unit="Count", value=len(run.failures))
        run.end()
        return {"file_late": late, "exports_waiting": waiting, "months_stuck": stuck}

    def check_expected_file(self, now: datetime | None = None, reports: Reports | None = None) -> bool:
        """True when this month's file is late (and a person was told, once per month)."""
        today = now or datetime.now(UTC)
        if self.expect_file_by_day is None or today.day < self.expect_file_by_day:
            return False
        first = today.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        uploaded = self.objects.modified_since(self.bucket, self.incoming_prefix, first)
        if uploaded and self._accepted_since(first, reports or self._every_report):
            return False
        month = first.strftime("%Y-%m")
        incoming = f"s3://{self.bucket}/{self.incoming_prefix}"
        alert = alerts.no_file_yet(month, self.expect_file_by_day, incoming, self.operator)
        self.once(f"watchdog.no_file#{month}", lambda: self._tell(alert))
        return True

    def check_waiting_exports(self, now: datetime | None = None) -> list[str]:
        """Manifests older than `export_wait_hours` whose parts are not all in: told once each."""
        cutoff = (now or datetime.now(UTC)) - timedelta(hours=self.export_wait_hours)
        waiting = []
        in_bucket = dict(self.objects.listing(self.bucket, self.incoming_prefix))
        run = _Run()
        waiting += run.guard("parts without a manifest", partial(self._parts_without_manifest, in_bucket, cutoff)) or []
        for key, written in in_bucket.items():
            export = export_key(key)
            if export is not None and export.is_manifest and written <= cutoff:
                # One manifest it cannot read (a part in a bucket it may not read) keeps no other from its check.
                run.guard(
                    f"export s3://{self.bucket}/{key}",
                    partial(
                        self._check_export, key, export, written, in_bucket=in_bucket, cutoff=cutoff, waiting=waiting
                    ),
                )
        run.end()
        return waiting

    def _check_export(
        self,
        key: str,
        export: ExportKey,
        written: datetime,
        *,
        in_bucket: dict[str, datetime],
        cutoff: datetime,
        waiting: list[str],
    ) -> None:
        raw = self.objects.get_json(self.bucket, key)
        try:
            delivery = export_delivery(self.objects, raw or b"", self.bucket)
        except ManifestInvalid:
            return  # the splitter rejected it and said so
        where = f"s3://{self.bucket}/{key}"
        if delivery.missing:
            waiting.append(key)
            alert = self._export_alert(where, key, export.period, delivery.missing, "parts")
            self.once(f"watchdog.export#{key}#{written.isoformat()}", partial(self._tell, alert))
            return
        parts = delivery.parts
        rewritten = max((in_bucket[k] for b, k in parts if b == self.bucket and k in in_bucket), default=written)
        if rewritten <= cutoff and delivery.refreshed_in_place(self._last_read(where)):
            waiting.append(key)
            alert = self._export_alert(where, key, export.period, [f"s3://{b}/{k}" for b, k in parts], "new manifest")
            self.once(f"watchdog.export_refresh#{key}#{delivery.identity}", partial(self._tell, alert))

    def _accepted_since(self, first: datetime, reports: Reports) -> bool:
        """Whether an upload since `first` was accepted: a rejected file, or a repeat of one accepted before (last
        month's file sent again), is not this month's file. True without the file records to ask."""
        if self.records is None:
            return True
        return any(
            upload.outcome == "accepted" and datetime.fromisoformat(upload.recorded_at) >= first
            for report in reports()
            for upload in report.uploads
        )

    def _every_report(self) -> list[RunReport]:
        return [] if self.records is None else list(self.records.every_report())

    def check_stuck_months(self, now: datetime | None = None, reports: Reports | None = None) -> list[str]:
        """Months of a file that is still the month's truth, not pushed `month_wait_hours` after the month took
        its status: pending (its message lost, say a queue purged), failed (in the dead-letter queue, which
        keeps a message 14 days), or superseded (its message judged an instant before the truth came back to
        it). Told once per month and status. The same file uploaded again (a duplicate, nothing queued) does not
        restart the clock; a month queued again (a replay, a redrive's failure) does."""
        if self.records is None:
            return []
        cutoff = (now or datetime.now(UTC)) - timedelta(hours=self.month_wait_hours)
        stuck = []
        run = _Run()  # an alert the topic refuses keeps no other month from being told
        truths: dict[str, MonthPointer | None] = {}  # each month's pointer, read once a run (many files share one)
        for report in (reports or self._every_report)():
            if report.status == "rejected":
                continue
            for month, state in sorted(report.months.items()):
                # A record written before months kept their own clock: the file record's.
                since, told_for = (state.since, state.since) if state.since else (report.updated_at, report.version)
                if state.status not in ("pending", "failed", "superseded") or datetime.fromisoformat(since) > cutoff:
                    continue
                if month not in truths:
                    truths[month] = self.records.month_pointer(month)
                truth = truths[month]
                if truth is None or truth.sha256 != report.file.sha256:
                    continue  # another file is the month's truth: this one is not to be pushed
                where = f"s3://{report.file.bucket}/{report.file.key}"
                stuck.append(f"{month} {where}")
                reason = state.error or f"{month} is {state.status} since {since}"
                problem = alerts.MonthProblem(
                    where, month, reason, f"s3://{report.file.bucket}/{report_key(report.file.sha256)}"
                )
                alert = alerts.month_stuck(
                    problem, self.operator, hours=self.month_wait_hours, in_dlq=state.status == "failed"
                )
                once = f"watchdog.month_stuck#{report.file.sha256}#{month}#{state.status}#{told_for}"
                run.guard(f"{month} of {where} never pushed", partial(self.once, once, partial(self._tell, alert)))
        run.end()
        return stuck

    def _last_read(self, where: str) -> tuple[str, str] | None:
        """The manifest's SHA-256 and its delivery's identity when the splitter last read it (its record)."""
        return self.records.export_accepted(where) if self.records is not None else None

    def _export_alert(self, where: str, key: str, period: str, files: list[str], waiting_for: ExportWait) -> Alert:
        hours = self.export_wait_hours
        return alerts.export_incomplete(where, period, hours, files, waiting_for, key=key, context=self.operator)

    def _parts_without_manifest(self, in_bucket: dict[str, datetime], cutoff: datetime) -> list[str]:
        """Manifests that parts waited for past the cutoff without it ever arriving (the parts alone are never
        pushed): told once per manifest and newest part."""
        orphans: dict[str, list[tuple[str, datetime]]] = {}
        for key, written in in_bucket.items():
            export = export_key(key)
            if export is not None and not export.is_manifest and export.manifest_key not in in_bucket:
                orphans.setdefault(export.manifest_key, []).append((key, written))
        told = []
        for manifest_key, parts in orphans.items():
            newest = max(written for _, written in parts)
            if newest > cutoff:
                continue  # still arriving: the manifest is written last
            export = export_key(manifest_key)
            assert export is not None  # derived from a part's key
            where = f"s3://{self.bucket}/{manifest_key}"
            keys = [f"s3://{self.bucket}/{key}" for key, _ in sorted(parts)]
            alert = self._export_alert(where, manifest_key, export.period, keys, "manifest")
            self.once(f"watchdog.export_parts#{manifest_key}#{newest.isoformat()}", partial(self._tell, alert))
            told.append(manifest_key)
        return told

    def splitter_failed(self, record_body: str) -> None:
        """One record of the splitter's failure destination: the S3 event it could not handle, and why."""
        try:
            record: dict[str, Any] = json.loads(record_body)
        except json.JSONDecodeError:
            record = {}
        response = record.get("responsePayload") or {}
        reason = safe_text(f"{response.get('errorType', 'error')}: {response.get('errorMessage', record_body)}")
        files = _s3_objects(record.get("requestPayload") or {})
        # SQS may deliver a record twice: each failure (its record, byte for byte) is told once per file.
        failure = hashlib.sha256(record_body.encode()).hexdigest()
        metrics.add_metric(name="SplitterFailures", unit="Count", value=1)
        run = _Run()
        for bucket, key in files or [("?", "?")]:
            alert = alerts.splitter_crashed(f"s3://{bucket}/{key}", key, reason, self.operator)
            once = partial(self.once, f"watchdog.splitter_failed#{failure}#{bucket}/{key}", partial(self._tell, alert))
            run.guard(f"the splitter's failure on s3://{bucket}/{key}", once)
        run.end()  # the record returns to its queue: what was told is not told again

    def _tell(self, alert: alerts.Alert) -> dict[str, str]:
        if not self.notifier.notify(alert):
            raise AlertNotDelivered(f"the topic refused the {alert.kind} alert; it is told again on the next run")
        metrics.add_metric(name="AlertsSent", unit="Count", value=1)
        logger.warning("alert sent", extra={"alert": alert.kind})
        return {"alert": alert.kind}


def _s3_objects(event: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for record in event.get("Records", []):
        s3 = record.get("s3", {})
        bucket, key = s3.get("bucket", {}).get("name"), s3.get("object", {}).get("key")
        if bucket and key:
            found.append((str(bucket), unquote_plus(str(key))))
    return found
