"""Keeps each file's report in DynamoDB (the truth) and its copy at `reports/<sha256>.json` in S3."""

from collections.abc import Callable

from credits_pipeline.domain.identity import report_key
from credits_pipeline.domain.money import format_money
from credits_pipeline.domain.report import RunReport
from credits_pipeline.services.observability import logger
from credits_pipeline.services.ports import FileRecordsPort, ObjectStorePort

MAX_REPUBLISH = 5


class ReportBook:
    def __init__(self, records: FileRecordsPort, objects: ObjectStorePort) -> None:
        self.records = records
        self._objects = objects

    def update(
        self, sha256: str, change: Callable[[RunReport], object], new: Callable[[], RunReport] | None = None
    ) -> RunReport:
        """Change the report under optimistic locking, then publish the newest version to S3."""
        report = self.records.update(sha256, change, new)
        self.publish(report)
        return report

    def publish(self, report: RunReport) -> None:
        # Two writers may publish out of order; whoever sees a newer version afterwards writes again.
        for _ in range(MAX_REPUBLISH):
            self._objects.put_json(
                report.file.bucket, report_key(report.file.sha256), report.model_dump_json(indent=2).encode()
            )
            if self.records.version(report.file.sha256) == report.version:
                return
            newer = self.records.load(report.file.sha256)
            if newer is None:
                return
            report = newer


def file_summary(report: RunReport, message: str, *, failed: bool = False) -> None:
    """The one line that ends a file's story in the logs: INFO when all is well, ERROR otherwise."""
    fields = {
        "summary": True,
        "status": report.status,
        "error": report.error,
        "problems": report.problems[:10],
        "file": report.file.model_dump(),
        "months": {month: state.model_dump(mode="json") for month, state in report.months.items()},
        "total": format_money(report.total),
        "skipped_total": report.skipped_total,
    }
    failed = failed or report.status in ("rejected", "failed", "partially_failed")
    (logger.error if failed else logger.info)(message, extra=fields)
