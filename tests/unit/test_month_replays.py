"""A month sent again through the month queue: an operator's replay of a named file, refused or cut short."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from credits_pipeline.domain.messages import MonthMessage
from credits_pipeline.domain.report import RunReport
from credits_pipeline.services.month_batches import read_batch
from credits_pipeline.services.month_replays import queue_month_again
from credits_pipeline.services.report_book import ReportBook
from credits_pipeline.services.watchdog import Watchdog
from tests.fakes import BUCKET, FakeNotifier, InMemoryOnce, World

RIGHT = b"000000000001,$10.00\n000000000002,$20.50\n"
WRONG = b"000000000001,$1000.00\n000000000002,$20.50\n"


def right_then_wrong_pushed(world: World) -> RunReport:
    right = world.upload("incoming/credits-2026-02.csv", RIGHT, event_time="2026-03-01T09:00:00.000Z")
    world.deliver(world.queue.sent[-1].body, "right-1")
    world.upload("incoming/credits-2026-02-b.csv", WRONG, event_time="2026-03-01T10:00:00.000Z")
    world.deliver(world.queue.sent[-1].body, "wrong-1")
    assert world.cloudzero.month_total("2026-02") == Decimal("-1020.50")
    return right


def replay_of(world: World, report: RunReport) -> MonthMessage:
    batch_key = report.months["2026-02"].batch_key
    return MonthMessage.pointing_at(read_batch(world.objects, BUCKET, batch_key), BUCKET, batch_key, "replay-1")


def refused_replay(
    world: World, message: MonthMessage, refusal: Exception, make_truth: Callable[[], object] | None = None
) -> None:
    """Queue the replay as `credits-replay` does, the queue refusing it with `refusal`."""
    world.queue.fail_next(refusal)
    with pytest.raises(type(refusal), match=str(refusal)):
        queue_month_again(
            ReportBook(world.records, world.objects),
            world.queue,
            message,
            queued="replay replay-1 queued",
            not_queued=lambda error: f"replay replay-1 not queued ({error}): run credits-replay again",
            make_truth=make_truth,
        )


def test_a_replay_of_a_named_file_the_queue_refuses_leaves_the_month_pending_and_told() -> None:
    world = World()
    right = right_then_wrong_pushed(world)
    key = right.file.key

    def make_truth() -> None:  # `credits-replay --file`: the named file is the month's truth from now on
        assert world.report(right.file.sha256).months["2026-02"].status == "pending"  # marked first
        world.records.accept_month("2026-02", right.file.sha256, BUCKET, key, "2026-03-02T00:00:00.000Z", force=True)

    refused_replay(world, replay_of(world, right), RuntimeError("AccessDenied: sqs:SendMessage"), make_truth)

    # The right file is the truth, CloudZero holds the wrong one: never shown as pushed and verified.
    assert world.records.months["2026-02"]["sha256"] == right.file.sha256
    month = world.report(right.file.sha256).months["2026-02"]
    assert month.status == "pending"
    assert "not queued (AccessDenied: sqs:SendMessage): run credits-replay again" in (month.error or "")
    notifier = FakeNotifier()
    dog = Watchdog(world.objects, notifier, InMemoryOnce(), BUCKET, "incoming/", records=world.records)
    dog.run_checks(datetime.now(UTC) + timedelta(hours=25))
    assert [(alert.kind, alert.months) for alert in notifier.alerts] == [("month_stuck", ["2026-02"])]


def test_a_replay_the_queue_refuses_without_moving_the_truth_shows_the_month_as_before() -> None:
    world = World()
    right = right_then_wrong_pushed(world)
    wrong_sha = world.records.months["2026-02"]["sha256"]
    wrong = world.report(wrong_sha)

    refused_replay(world, replay_of(world, wrong), RuntimeError("Throttling"))

    month = world.report(wrong_sha).months["2026-02"]
    assert (month.status, month.verified) == ("pushed", True)  # CloudZero holds it: as it was
    assert world.records.months["2026-02"]["sha256"] == wrong_sha  # the truth did not move
    assert right.file.sha256 != wrong_sha
