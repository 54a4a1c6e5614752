"""The pusher: one month message -> one billing drop in CloudZero (chunked only past the size limit).

A month is pushed once per (file, month): a redelivered message is answered from the idempotency
record and sends nothing. A month that can never succeed goes straight to the DLQ with its reason;
one that may succeed later goes back to the queue, and after maxReceiveCount to the DLQ.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial

from pydantic import ValidationError

from credits_pipeline.domain import alerts
from credits_pipeline.domain.alerts import Alert, OperatorContext
from credits_pipeline.domain.cbf import DropBody
from credits_pipeline.domain.identity import dead_letter_dedup_id, report_key, unreadable_dedup_id
from credits_pipeline.domain.messages import MonthMessage
from credits_pipeline.domain.money import format_money
from credits_pipeline.domain.report import RunReport, utc_now
from credits_pipeline.domain.verification import compare_month
from credits_pipeline.services.month_batches import BatchInvalid, load_month, unknown_message_version
from credits_pipeline.services.observability import logger, metrics
from credits_pipeline.services.ports import (
    REPLAYED,
    CloudZeroPort,
    CloudZeroRejected,
    DropReceipt,
    FileRecordsPort,
    MonthQueuePort,
    NotifierPort,
    ObjectStorePort,
    Once,
    Outcome,
    OutcomeUnknown,
    Remaining,
)
from credits_pipeline.services.report_book import ReportBook, file_summary

ReportChange = Callable[[RunReport], object]  # what it returns is not used
AlertBuilder = Callable[[alerts.MonthProblem, OperatorContext], Alert]


class PushFailedFinally(Exception):
    """The month was moved to the DLQ with its reason; the queue message is done with."""


class MonthCutShort(Exception):
    """A push that stopped after CloudZero may have taken part of the month: `cause` is why it stopped; the
    message says what CloudZero holds now (until the month is sent again from its replace_drop)."""

    def __init__(self, cause: Exception, *, sent: int, chunks: int, rows: int) -> None:
        if sent:
            holds = (
                f"CloudZero now holds only the first {sent} of the month's {chunks} chunks ({rows} rows): "
                "the first replaced what it held before"
            )
            if isinstance(cause, OutcomeUnknown):
                holds += f", and chunk {sent} may still land"
        else:  # the replace_drop's own outcome is unknown
            holds = f"CloudZero may now hold only the first of the month's {chunks} chunks, if its replace_drop landed"
        super().__init__(f"{cause}; {holds}")
        self.cause = cause


@dataclass(frozen=True)
class PushResult:
    month: str
    status: str
    drop_id: str | None = None
    detail: str = ""


@dataclass
class Pusher:
    objects: ObjectStorePort
    records: FileRecordsPort
    reports: ReportBook
    dead_letters: MonthQueuePort
    once: Once
    cloudzero: CloudZeroPort
    notifier: NotifierPort
    operator: OperatorContext = field(default_factory=OperatorContext)
    # Tell a person when a file lands too, not only when something needs them.
    notify_success: bool = False
    # The month queue's maxReceiveCount (the handler tells a last delivery by it).
    max_receive_count: int = 5

    def handle_message(
        self, body: str, delivery_id: str, remaining: Remaining, *, last_attempt: bool = False
    ) -> PushResult:
        """One queue message. Returning means done with it; raising sends it back to the queue.

        `last_attempt`: this is the queue's last delivery; a failure now leaves the month in the DLQ.
        """
        try:
            message = MonthMessage.model_validate_json(body)
        except ValidationError as error:
            unknown = unknown_message_version(body)
            reason = (
                f"unreadable month message: {unknown}"
                if unknown
                else f"unreadable month message (schema this pusher does not know): {error}"
            )
            logger.error(reason, extra={"body": body[:1000]})
            self.dead_letters.send_raw(body, unreadable_dedup_id(delivery_id), reason)
            metrics.add_metric(name="PushFailures", unit="Count", value=1)
            self.notifier.notify(alerts.message_unreadable(reason, f"month message {body[:200]!r}", self.operator))
            return PushResult("", "dead_lettered", detail=reason)
        try:
            return self.push_month(message, delivery_id, remaining, last_attempt=last_attempt)
        except PushFailedFinally as error:
            return PushResult(message.month, "dead_lettered", detail=str(error))

    def push_month(
        self, message: MonthMessage, delivery_id: str, remaining: Remaining, *, last_attempt: bool = False
    ) -> PushResult:
        """Send the month unless it was sent already or a later file superseded it."""
        sha = message.file.sha256
        logger.set_correlation_id(sha)
        logger.append_keys(sha256=sha, month=message.month, file=f"s3://{message.file.bucket}/{message.file.key}")
        superseded_by = self._superseded_by(message)
        if superseded_by:
            return self._supersede(message, superseded_by)
        try:
            outcome = self.once(message.idempotency_key, lambda: self._send(message, delivery_id, remaining))
        except Exception as error:
            cause = error.cause if isinstance(error, MonthCutShort) else error
            # CloudZero may hold something else now than any earlier read-back found.
            touched = cause is not error or isinstance(cause, OutcomeUnknown)
            if isinstance(cause, CloudZeroRejected | BatchInvalid):
                self._fail(message, f"{error}; the month is in the dead-letter queue", final=True, touched=touched)
                self.dead_letters.send(
                    message, dead_letter_dedup_id(message.idempotency_key, delivery_id), reason=str(error)
                )
                if isinstance(cause, BatchInvalid):
                    batch = partial(
                        alerts.batch_invalid,
                        bucket=message.batch_bucket,
                        batch_key=message.batch_key,
                        cloudzero_called=touched,
                    )
                    self._alert(batch, message, str(error))
                else:
                    refused_key = cause.status == 403
                    self._alert(alerts.api_key_refused if refused_key else alerts.month_failed, message, str(error))
                raise PushFailedFinally(str(error)) from error
            if last_attempt:
                # SQS moves the message to the DLQ only when this delivery's visibility timeout ends.
                moving = (
                    "every retry failed: the month moves to the dead-letter queue when the queue's visibility "
                    "timeout ends"
                )
                self._fail(message, f"{error}; {moving}", final=True, touched=touched)
                self._alert(alerts.month_dead_lettered, message, str(error))
            else:
                self._fail(
                    message, f"{error}; the month returns to the queue and is retried", final=False, touched=touched
                )
            raise
        if outcome.get(REPLAYED):
            logger.info("month already pushed: nothing sent again", extra={"drop_id": outcome["drop_id"]})
            metrics.add_metric(name="MonthsAlreadyPushed", unit="Count", value=1)
            report = self.records.load(sha)
            state = report.months[message.month] if report else None
            # The push landed but its report update did not (the month still waits, or shows an earlier
            # delivery's failure). A month pushed since, by a replay, keeps that newer drop: this message's
            # older one is not recorded over it.
            if report and state and state.status in ("pending", "failed") and state.drop_id != outcome["drop_id"]:
                report = self._succeed(message, outcome)
            self._verify(message, remaining, report, last_attempt=last_attempt)
            return PushResult(message.month, "already_pushed", outcome["drop_id"])
        self._verify(message, remaining, self._succeed(message, outcome), last_attempt=last_attempt)
        return PushResult(message.month, "pushed", outcome["drop_id"])

    def _verify(
        self, message: MonthMessage, remaining: Remaining, report: RunReport | None, *, last_attempt: bool = False
    ) -> None:
        """Read the month back from CloudZero and compare it with what was sent (once per push).

        `report` is the file's report as the push left it. A read-back that cannot be made returns the
        message to the queue, like a failed push: the redelivery sends nothing again (the push is
        recorded) and reads back again.
        """
        state = report.months.get(message.month) if report else None
        if state is None or state.status != "pushed" or state.verified is not None:
            return
        try:
            month_sent = load_month(self.objects, message)
            # Each side is read as it streams (and read again only where they differ): never a month in memory.
            check = compare_month(month_sent.sent, lambda: self.cloudzero.month_rows(message.month, remaining))
        except Exception as error:
            why = f"pushed; not yet read back from CloudZero: {error}"

            def not_read(report: RunReport) -> None:
                report.months[message.month].error = why

            self._update(message, not_read)
            logger.warning("month pushed, read-back failed: it returns to the queue", extra={"error": str(error)})
            if last_attempt:  # the message goes to the DLQ: a person checks the month
                self._alert(alerts.month_not_read_back, message, why)
            raise

        def verified(report: RunReport) -> None:
            report.record_check(message.month, check)

        settled = self._update(message, verified)
        if check.matches:
            metrics.add_metric(name="MonthsVerified", unit="Count", value=1)
            logger.info("month verified in CloudZero", extra={"check": check.summary()})
            if settled.settled and settled.status == "pushed" and self.notify_success:
                where = f"s3://{message.file.bucket}/{message.file.key}"
                summary = f"every month pushed and verified; total {format_money(settled.total)}"
                self.notifier.notify(
                    alerts.file_pushed(where, sorted(settled.months), summary, self._report_at(message))
                )
        else:
            metrics.add_metric(name="MonthsUnverified", unit="Count", value=1)
            logger.error("month not held as sent", extra={"check": check.summary()})
            self._alert(alerts.month_unverified, message, check.summary())

    def _alert(self, build: AlertBuilder, message: MonthMessage, why: str) -> None:
        where = f"s3://{message.file.bucket}/{message.file.key}"
        problem = alerts.MonthProblem(where, message.month, why, self._report_at(message))
        self.notifier.notify(build(problem, self.operator))

    @staticmethod
    def _report_at(message: MonthMessage) -> str:
        return f"s3://{message.file.bucket}/{report_key(message.file.sha256)}"

    def _send(self, message: MonthMessage, delivery_id: str, remaining: Remaining) -> Outcome:
        month = load_month(self.objects, message)
        month.check()  # every body as stored before the first is sent: never half a month
        receipts = self._send_in_order(month.bodies, delivery_id, remaining, chunks=month.chunks)
        return {
            "drop_id": receipts[-1].drop_id,
            "drop_ids": [receipt.drop_id for receipt in receipts],
            "rows": sum(receipt.row_count for receipt in receipts),
            "chunks": month.chunks,
            "delivery_id": delivery_id,
        }

    def _send_in_order(
        self, bodies: Callable[[], Iterator[DropBody]], delivery_id: str, remaining: Remaining, *, chunks: int
    ) -> list[DropReceipt]:
        """Strictly in order: the first chunk replaces the month, the rest add to it; `bodies()` yields them
        from the first, one at a time.

        Nothing is sent after a chunk whose outcome is unknown (OutcomeUnknown: it may still land), nor is
        the month started over in this delivery: its next delivery does that, from its `replace_drop`, under
        fresh request keys. A push that stops once CloudZero may hold part of the month (a `sum` refused for
        good, a chunk unknown, a stored body gone) raises MonthCutShort, which says so.
        """
        receipts: list[DropReceipt] = []
        try:
            for body in bodies():
                receipts.append(self.cloudzero.post_drop(body, delivery_id, remaining))
                del body  # sent: let it go before the next body is read
        except Exception as error:
            if receipts or (isinstance(error, OutcomeUnknown) and chunks > 1):
                rows = sum(receipt.row_count for receipt in receipts)
                raise MonthCutShort(error, sent=len(receipts), chunks=chunks, rows=rows) from error
            raise
        return receipts

    def _superseded_by(self, message: MonthMessage) -> str | None:
        # A replay too: it names the month's truth when it is queued (`--file` makes its file the truth
        # first), so one that waited (in the DLQ, say) while a newer upload became the truth must not send.
        pointer = self.records.month_pointer(message.month)
        if pointer and pointer.sha256 != message.file.sha256:
            return f"s3://{pointer.bucket}/{pointer.key} (sha256 {pointer.sha256})"
        return None

    def _supersede(self, message: MonthMessage, newer: str) -> PushResult:
        detail = f"not pushed: a later upload is the truth for {message.month}: {newer}"

        self._update(message, lambda report: report.mark_month(message.month, "superseded", detail))
        metrics.add_metric(name="MonthsSuperseded", unit="Count", value=1)
        logger.warning(detail)
        return PushResult(message.month, "superseded", detail=detail)

    def _succeed(self, message: MonthMessage, outcome: Outcome) -> RunReport:
        def pushed(report: RunReport) -> None:
            month = report.months[message.month]
            month.take("pushed", None)
            month.drop_id, month.chunks, month.pushed_at = outcome["drop_id"], outcome["chunks"], utc_now()
            month.attempts += 1
            # A new push (a replay) is read back again: an earlier check was of the earlier drop.
            month.verified, month.verified_at, month.differences = None, None, []
            report.settle()

        report = self._update(message, pushed)
        self.records.record_push(message.month, message.file.sha256, outcome["drop_id"])
        metrics.add_metric(name="MonthsPushed", unit="Count", value=1)
        metrics.add_metric(name="CreditTotal", unit="None", value=float(-message.total))
        logger.info(
            "month pushed to CloudZero",
            extra={
                "drop_id": outcome["drop_id"],
                "accounts": message.accounts,
                "total": format_money(message.total),
            },
        )
        if report.settled:
            file_summary(report, f"file {report.status}: every month has an outcome")
        return report

    def _fail(self, message: MonthMessage, error: str, *, final: bool, touched: bool = False) -> None:
        """`touched`: CloudZero may hold something else now, so an earlier read-back no longer says what."""

        def failed(report: RunReport) -> None:
            month = report.months[message.month]
            month.take("failed", error)
            month.attempts += 1
            if touched:
                month.verified, month.verified_at, month.differences = None, None, []
            report.settle()

        report = self._update(message, failed)
        metrics.add_metric(name="PushFailures", unit="Count", value=1)
        logger.error("month not pushed", extra={"error": error, "final": final})
        if final and report.settled:
            file_summary(report, f"file {report.status}: a month was moved to the dead-letter queue")

    def _update(self, message: MonthMessage, change: ReportChange) -> RunReport:
        return self.reports.update(message.file.sha256, change)
