"""The splitter: one uploaded file -> each month's CloudZero bodies in S3 and one message per month, exactly once."""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

from pydantic import BaseModel

from credits_pipeline.domain import alerts
from credits_pipeline.domain.alerts import OperatorContext
from credits_pipeline.domain.cbf import MonthLimit
from credits_pipeline.domain.credits import CreditFile, merge_parts
from credits_pipeline.domain.exports import ExportKey, ManifestInvalid, export_key
from credits_pipeline.domain.identity import (
    batch_key,
    file_identity,
    month_message_dedup_id,
    report_key,
    reupload_replay_id,
    upload_order,
)
from credits_pipeline.domain.messages import FileRef, MonthMessage
from credits_pipeline.domain.money import format_money
from credits_pipeline.domain.report import PartEntry, RunReport, UploadEntry, UploadOutcome
from credits_pipeline.formats import FileRejected, ParseConfig, read_credit_file
from credits_pipeline.services.export_delivery import export_delivery
from credits_pipeline.services.month_batches import (
    MonthBeyondLimit,
    beyond_limit_reason,
    months_beyond,
    read_batch,
    store_month,
)
from credits_pipeline.services.month_replays import queue_month_again
from credits_pipeline.services.observability import logger, metrics
from credits_pipeline.services.ports import (
    REPLAYED,
    Download,
    FileRecordsPort,
    MonthQueuePort,
    NotifierPort,
    ObjectStorePort,
    Once,
    Outcome,
)
from credits_pipeline.services.report_book import ReportBook, file_summary

STATUS_TAG = "credits-pipeline-status"
SHA_TAG = "credits-pipeline-sha256"


class Upload(BaseModel):
    """One S3 ObjectCreated record: the key is already URL-decoded."""

    bucket: str
    key: str
    version_id: str | None = None
    size: int | None = None
    event_time: str = ""
    # S3's order of events for one key: events arrive in no order, and two PUTs can share a millisecond.
    sequencer: str = ""
    # The file's first upload, when this event is an operator's reprocess copy of it: a file's place among
    # the month's uploads is its upload's, not its copy's (an older file reprocessed is not newer than one since).
    uploaded_at: str = ""

    @property
    def upload_id(self) -> str:
        return f"{self.bucket}/{self.key}#{self.version_id or ''}@{self.event_time}"

    def entry(self, outcome: UploadOutcome) -> UploadEntry:
        return UploadEntry(
            bucket=self.bucket,
            key=self.key,
            version_id=self.version_id,
            event_time=self.event_time,
            size=self.size,
            outcome=outcome,
        )


@dataclass
class Splitter:
    objects: ObjectStorePort
    records: FileRecordsPort
    reports: ReportBook
    queue: MonthQueuePort
    once: Once
    config: ParseConfig
    notifier: NotifierPort
    # Only uploads under this prefix are credit files: the bucket also holds our own batches and reports.
    incoming_prefix: str = ""
    operator: OperatorContext = field(default_factory=OperatorContext)
    month_limit: MonthLimit = field(default_factory=MonthLimit)

    def split_upload(self, upload: Upload) -> RunReport | None:
        """Hash the object, accept it once per content, and say what happened in one summary line."""
        if not upload.key.startswith(self.incoming_prefix):
            logger.warning(
                "ignored: the object is outside the incoming prefix (check the bucket's notification filter)",
                extra={"file": f"s3://{upload.bucket}/{upload.key}", "incoming_prefix": self.incoming_prefix},
            )
            return None
        if upload.key.endswith("/") and not upload.size:
            # A folder made in the S3 console under the prefix: no file, nothing to read or reject.
            logger.info("ignored: a folder, not a file", extra={"file": f"s3://{upload.bucket}/{upload.key}"})
            return None
        export = export_key(upload.key)
        if export is not None:
            return self._export_upload(upload, export)
        download = self.objects.download(upload.bucket, upload.key, upload.version_id)
        if download.uploaded_at:
            upload = upload.model_copy(update={"uploaded_at": download.uploaded_at})
        sha256 = file_identity(download.sha256, upload.key)
        try:
            logger.set_correlation_id(sha256)
            logger.append_keys(sha256=sha256, file=f"s3://{upload.bucket}/{upload.key}")

            def accept() -> Outcome:
                download.data.seek(0)  # a second reading starts from the same download
                return self._accept(upload, download, sha256)

            outcome = self._once_rereading_rejected(sha256, upload, accept)
        finally:
            download.close()
        if outcome.get(REPLAYED) and outcome["upload_id"] != upload.upload_id:
            return self._duplicate(upload, sha256, outcome)
        report = self.records.load(sha256)
        assert report is not None  # _accept always writes it
        return report

    def _once_rereading_rejected(self, identity: str, upload: Upload, accept: Callable[[], Outcome]) -> Outcome:
        """`accept` once per identity; but a rejected file (or export) is never a duplicate: a new upload of it
        (or `scripts/reprocess.py`, after a setting was fixed) is read again, with the current settings."""
        outcome = self.once(identity, accept)
        if outcome.get(REPLAYED) and outcome.get("status") == "rejected" and outcome["upload_id"] != upload.upload_id:
            logger.info("a rejected file was uploaded again: reading it with the current settings")
            self.once.forget(identity)
            outcome = self.once(identity, accept)
        return outcome

    def _accept(self, upload: Upload, download: Download, sha256: str) -> Outcome:
        file = FileRef(bucket=upload.bucket, key=upload.key, sha256=sha256, content_sha256=download.sha256)
        metrics.add_metric(name="FilesReceived", unit="Count", value=1)
        try:
            credit_file = read_credit_file(download.data, upload.key, self.config)
        except FileRejected as rejection:
            return self._reject(upload, file, rejection)
        return self._queue_months(upload, file, credit_file)

    def _queue_months(
        self, upload: Upload, file: FileRef, credit_file: CreditFile, parts: list[PartEntry] | None = None
    ) -> Outcome:
        """Store each month's bodies, record the report, point each month at this file, queue the months."""
        file = file.model_copy(update={"format": credit_file.format_id})
        batch_keys = {month: batch_key(file.sha256, month) for month in credit_file.months}
        # A month beyond what CloudZero holds is refused before its bodies are written (rows) or while they
        # are (bytes): nothing is queued, and what was stored stays unsent scratch.
        beyond = months_beyond(credit_file.months, self.month_limit)
        manifests = {}
        if not beyond:
            try:
                manifests = {
                    month: store_month(self.objects, upload.bucket, file, credits, self.month_limit)
                    for month, credits in credit_file.months.items()
                }
            except MonthBeyondLimit as error:
                beyond = [str(error)]
        if beyond:
            return self._reject(
                upload,
                file,
                FileRejected(beyond_limit_reason(beyond), format_id=credit_file.format_id),
            )

        def accept(report: RunReport) -> None:
            report.accept(credit_file, batch_keys)
            report.parts = list(parts or [])
            _add_upload(report, upload.entry("accepted"))

        report = self.reports.update(file.sha256, accept, new=lambda: RunReport(file=file))
        for month, manifest in manifests.items():
            order = upload_order(upload.uploaded_at or upload.event_time, upload.sequencer)
            self.records.accept_month(month, file.sha256, upload.bucket, upload.key, order)
            message = MonthMessage.pointing_at(manifest, upload.bucket, batch_keys[month])
            self.queue.send(message, deduplication_id=month_message_dedup_id(file.sha256, month))
        self._tag(upload, file.sha256, "accepted")
        metrics.add_metric(name="MonthsQueued", unit="Count", value=len(manifests))
        metrics.add_metric(name="AccountsSkipped", unit="Count", value=credit_file.skipped_total)
        logger.info(
            "file accepted: months queued for CloudZero",
            extra={
                "format": credit_file.format_id,
                "months": {
                    m: {"accounts": r.accounts, "total": format_money(r.total)} for m, r in report.months.items()
                },
                "total": format_money(credit_file.total),
                "skipped_total": credit_file.skipped_total,
                "skipped_by_reason": credit_file.skipped_by_reason,
                "ignored_rows": credit_file.ignored_rows,
            },
        )
        return {"upload_id": upload.upload_id, "status": "pending", "months": sorted(manifests)}

    def _export_upload(self, upload: Upload, export: ExportKey) -> RunReport | None:
        """A part or the manifest of a multi-file export: the month goes once, when every part is in."""
        where = f"s3://{upload.bucket}/{export.manifest_key}"
        logger.append_keys(file=where, export_period=export.period)
        raw = self.objects.get_json(upload.bucket, export.manifest_key)
        if raw is None:
            logger.info(
                "part of a multi-file export: it waits for its manifest, a part is never pushed alone",
                extra={"part": f"s3://{upload.bucket}/{upload.key}"},
            )
            return None
        stored_manifest = self.objects.head(upload.bucket, export.manifest_key)
        manifest = Upload(
            bucket=upload.bucket,
            key=export.manifest_key,
            event_time=upload.event_time,
            uploaded_at=(stored_manifest.uploaded_at if stored_manifest else None) or "",
        )
        try:
            delivery = export_delivery(self.objects, raw, upload.bucket)
        except ManifestInvalid as error:
            file = FileRef(bucket=upload.bucket, key=export.manifest_key, sha256=hashlib.sha256(raw).hexdigest())
            self._reject(manifest, file, FileRejected(f"the export's manifest is unusable: {error}"))
            return self.records.load(file.sha256)
        missing = delivery.missing
        if missing:
            metrics.add_metric(name="ExportsWaiting", unit="Count", value=1)
            logger.warning(
                "export incomplete: it waits for every part its manifest names; nothing is pushed until then",
                extra={"missing": missing[:20], "missing_total": len(missing), "parts": len(delivery.parts)},
            )
            return None
        identity, manifest_sha = delivery.identity, delivery.manifest_sha256
        logger.set_correlation_id(identity)
        logger.append_keys(sha256=identity)
        accepted = self.records.export_accepted(where)
        if not export.is_manifest and delivery.refreshed_in_place(accepted):
            # Parts rewritten under a manifest already read with other parts: an export refreshing its files in
            # place (the manifest is written last). Read now, the month would mix old parts and new.
            metrics.add_metric(name="ExportsWaiting", unit="Count", value=1)
            logger.info(
                "export being delivered again: its parts changed since its manifest was read; it waits for the "
                "new manifest (re-upload or reprocess the manifest to read the parts as they are)",
                extra={"part": f"s3://{upload.bucket}/{upload.key}"},
            )
            return None
        outcome = self._once_rereading_rejected(
            identity, manifest, lambda: self._accept_export(manifest, identity, manifest_sha, delivery.parts)
        )
        if outcome.get("status") != "rejected" and accepted != (manifest_sha, identity):
            self.records.record_export(where, manifest_sha, identity)  # a repeated event has nothing new to say
        report = self.records.load(identity)
        assert report is not None  # _accept_export always writes it
        if outcome.get(REPLAYED):
            # Every event of a delivery after the first lands here. Only the manifest's own event (written last:
            # an earlier export's files restored after another file) is a new delivery, as of its own time; a
            # part's event (a new delivery beginning beside the old manifest) says nothing of the manifest's.
            new_delivery = export.is_manifest and outcome["upload_id"] != manifest.upload_id
            again = self._truth_again(manifest, report) if new_delivery else []
            if not again:
                logger.info("export already accepted: nothing to do", extra={"parts": len(delivery.parts)})
                return report
            report = self.records.load(identity) or report
            self._tag(manifest, identity, "duplicate")
            file_summary(
                report,
                f"export delivered again with the files of an earlier delivery: the latest delivery of "
                f"{', '.join(again)} again, whose credits CloudZero no longer held: queued to be pushed again",
            )
        return report

    def _accept_export(
        self, manifest: Upload, identity: str, manifest_sha: str, listed: list[tuple[str, str]]
    ) -> Outcome:
        file = FileRef(bucket=manifest.bucket, key=manifest.key, sha256=identity, content_sha256=manifest_sha)
        metrics.add_metric(name="FilesReceived", unit="Count", value=1)
        read: list[tuple[str, CreditFile]] = []
        entries: list[PartEntry] = []
        part_config = replace(self.config, part_of_export=True)
        for bucket, key in listed:
            download = self.objects.download(bucket, key)
            try:
                read.append((key, read_credit_file(download.data, key, part_config)))
            except FileRejected as rejection:
                rejection.reason = f"part s3://{bucket}/{key}: {rejection.reason}"
                rejection.args = (rejection.reason,)
                return self._reject(manifest, file, rejection)
            finally:
                download.close()
            entries.append(PartEntry(bucket=bucket, key=key, size=download.size, sha256=download.sha256))
        try:
            credit_file = merge_parts(read, self.config.max_lines_per_credit, self.config.skipped_detail_limit)
        except ValueError as error:
            return self._reject(manifest, file, FileRejected(str(error)))
        if not credit_file.months:
            return self._reject(manifest, file, FileRejected(f"no credit rows in any of the {len(read)} parts"))
        return self._queue_months(manifest, file, credit_file, entries)

    def _reject(self, upload: Upload, file: FileRef, rejection: FileRejected) -> Outcome:
        error = f"s3://{upload.bucket}/{upload.key}: {rejection}"

        def reject(report: RunReport) -> None:
            report.reject(error, rejection.problems, rejection.problem_counts)
            _add_upload(report, upload.entry("rejected"))

        if rejection.format_id:
            file = file.model_copy(update={"format": rejection.format_id})
        report = self.reports.update(file.sha256, reject, new=lambda: RunReport(file=file))
        self._tag(upload, file.sha256, "rejected")
        metrics.add_metric(name="FilesRejected", unit="Count", value=1)
        file_summary(report, "file rejected: nothing was sent to CloudZero")
        where = f"s3://{upload.bucket}/{upload.key}"
        report_at = f"s3://{upload.bucket}/{report_key(file.sha256)}"
        incoming = f"s3://{upload.bucket}/{self.incoming_prefix}"
        self.notifier.notify(
            alerts.file_rejected(where, str(rejection), report_at, self.operator, key=upload.key, incoming=incoming)
        )
        return {"upload_id": upload.upload_id, "status": "rejected"}

    def _duplicate(self, upload: Upload, sha256: str, first: Outcome) -> RunReport:
        def duplicate(report: RunReport) -> None:
            _add_upload(report, upload.entry("duplicate"))
            if report.status != "rejected":
                report.status = "duplicate"

        report = self.reports.update(sha256, duplicate)
        again = self._truth_again(upload, report) if report.status != "rejected" else []
        if again:
            report = self.records.load(sha256) or report
        self._tag(upload, sha256, "duplicate")
        metrics.add_metric(name="FilesDuplicate", unit="Count", value=1)
        accepted = next((u for u in report.uploads if u.outcome != "duplicate"), None)
        first_upload = f"s3://{accepted.bucket}/{accepted.key}" if accepted else first["upload_id"]
        message = f"duplicate upload: same bytes as {first_upload}; nothing was sent again"
        if again:
            message = (
                f"upload of the same bytes as {first_upload}: the latest upload of {', '.join(again)} again, whose "
                "credits CloudZero no longer held: queued to be pushed again"
            )
        failed = sorted(month for month, state in report.months.items() if state.status == "failed")
        if failed:
            message += f"; months still not pushed: {', '.join(failed)} (redrive the DLQ or replay them)"
        file_summary(report, message, failed=bool(failed))
        return report

    def _truth_again(self, upload: Upload, report: RunReport) -> list[str]:
        """The months this upload of an earlier file's bytes makes that file's truth again (the latest upload of
        a month is its truth) after another file was: each is pushed again, since CloudZero may hold some or all
        of that other file's credits (its push may have broken off midway, or be under way).

        Also when the month's own message is still on its way (pending, or failed and in the DLQ): the pusher
        may have judged that message superseded an instant before the truth moved back, and a second
        `replace_drop` of the same file leaves the month the same. A later upload stays the truth. Safe to
        repeat at any step: the month is marked before the truth moves, so a retried event finds the mark and
        queues the same push (once, by its id).
        """
        sha256 = report.file.sha256
        order = upload_order(upload.uploaded_at or upload.event_time, upload.sequencer)
        replay_id = reupload_replay_id(upload.upload_id)
        queued = f"pushed again {replay_id}: s3://{upload.bucket}/{upload.key} is the month's latest upload"
        again = []
        for month, state in report.months.items():
            resumed = replay_id in (state.error or "")  # an earlier try of this event got this far
            before = self.records.month_pointer(month)
            if not resumed and before is not None and before.sha256 == sha256:
                # Already the truth (CloudZero holds it, or its own message is on its way): only its place moves.
                self.records.accept_month(month, sha256, upload.bucket, upload.key, order)
                continue
            self.reports.update(sha256, partial(RunReport.mark_month, month=month, status="pending", error=queued))
            if not self.records.accept_month(month, sha256, upload.bucket, upload.key, order):
                detail = f"not pushed again: a later upload is the truth for {month}"
                superseded = partial(RunReport.mark_month, month=month, status="superseded", error=detail)
                self.reports.update(sha256, superseded)
                continue
            batch = read_batch(self.objects, report.file.bucket, state.batch_key)
            queue_month_again(
                self.reports,
                self.queue,
                MonthMessage.pointing_at(batch, report.file.bucket, state.batch_key, replay_id),
                queued=queued,
                not_queued=lambda error: (
                    f"{replay_id} not queued ({error}): upload the file again or run credits-replay"
                ),
            )
            again.append(month)
        return again

    def _tag(self, upload: Upload, sha256: str, status: str) -> None:
        self.objects.tag(upload.bucket, upload.key, upload.version_id, {STATUS_TAG: status, SHA_TAG: sha256})


def _add_upload(report: RunReport, entry: UploadEntry) -> None:
    # A retried invocation records the same upload once.
    if not any(
        u.key == entry.key
        and u.version_id == entry.version_id
        and u.event_time == entry.event_time
        and u.outcome == entry.outcome
        for u in report.uploads
    ):
        report.uploads.append(entry)
