"""A month stored before, sent through the month queue again as a new push (one request at a time still).

Two callers: an operator's replay (`credits-replay`), and an earlier file's bytes uploaded again, which
make it the month's truth again while CloudZero holds another file's credits.
"""

from collections.abc import Callable

from credits_pipeline.domain.identity import month_message_dedup_id
from credits_pipeline.domain.messages import MonthMessage
from credits_pipeline.domain.report import MonthStatus, RunReport
from credits_pipeline.services.ports import MonthQueuePort
from credits_pipeline.services.report_book import ReportBook


def queue_month_again(
    reports: ReportBook,
    queue: MonthQueuePort,
    message: MonthMessage,
    *,
    queued: str,
    not_queued: Callable[[Exception], str],
    make_truth: Callable[[], object] | None = None,
) -> None:
    """Queue `message` (a replay: it carries its own `replay_id`), its month shown `pending` with `queued`.

    The report says so before the message goes, so a pusher that takes it at once finds the month waiting
    for it. When the queue refuses it, the month shows what it showed before, with `not_queued(error)`
    (what to do), and the error is raised.

    `make_truth` (an operator's replay of a named file) makes the message's file the month's truth, after the
    month is marked and before the message goes. When the queue then refuses it, the month stays `pending`:
    CloudZero holds another file's credits, and a month left pending is told by the watchdog.
    """
    if message.replay_id is None:
        raise ValueError("a month queued again is a new push: it needs a replay id")
    sha256, month = message.file.sha256, message.month
    before: list[MonthStatus] = []

    def mark_queued(report: RunReport) -> None:
        before[:] = [report.mark_month(month, "pending", queued)]

    reports.update(sha256, mark_queued)
    if make_truth is not None:
        make_truth()
    try:
        queue.send(message, deduplication_id=month_message_dedup_id(sha256, month, message.replay_id), reason="replay")
    except Exception as error:
        why = not_queued(error)

        def restore(report: RunReport) -> None:
            if report.months[month].error == queued:  # nothing newer was recorded meanwhile
                report.mark_month(month, "pending" if make_truth is not None else before[0], why)

        reports.update(sha256, restore)
        raise
