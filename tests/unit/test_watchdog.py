"""The watchdog tells a person what no upload event shows: a late month, a file the splitter gave up on."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from credits_pipeline.services.ports import CloudZeroRejected
from credits_pipeline.services.splitter import Upload
from credits_pipeline.services.watchdog import ChecksFailed, Watchdog
from tests.export_builders import cur2_part, manifest, manifest_key, month_rows, part_key
from tests.fakes import BUCKET, FakeNotifier, FakeObjectStore, InMemoryOnce, World


def watchdog(day: int | None = 5) -> tuple[Watchdog, FakeObjectStore, FakeNotifier]:
    objects, notifier = FakeObjectStore(), FakeNotifier()
    dog = Watchdog(objects, notifier, InMemoryOnce(), BUCKET, "incoming/", expect_file_by_day=day)
    return dog, objects, notifier


def test_no_file_by_the_expected_day_alerts_once_that_month() -> None:
    dog, _, notifier = watchdog(day=5)
    today = datetime(2026, 11, 6, 9, tzinfo=UTC)

    assert dog.check_expected_file(today) is True
    assert dog.check_expected_file(today + timedelta(days=1)) is True  # still late: told once only
    [alert] = notifier.alerts
    assert (alert.kind, alert.months) == ("no_file_yet", ["2026-11"])
    assert "aws s3 cp credits-2026-11.csv s3://credits-bucket/incoming/" in alert.fix


def test_a_month_with_a_file_stays_quiet() -> None:
    dog, objects, notifier = watchdog(day=5)
    objects.put(BUCKET, "incoming/credits-2026-10.csv", b"x")  # written now, in this month
    assert dog.check_expected_file(datetime.now(UTC).replace(day=20)) is False
    assert notifier.alerts == []


def test_before_the_day_or_with_the_check_off_nothing_is_checked() -> None:
    dog, _, notifier = watchdog(day=5)
    assert dog.check_expected_file(datetime(2026, 11, 4, tzinfo=UTC)) is False
    off, _, quiet = watchdog(day=None)
    assert off.check_expected_file(datetime(2026, 11, 30, tzinfo=UTC)) is False
    assert notifier.alerts == quiet.alerts == []


def test_a_file_the_splitter_gave_up_on_is_told_with_the_error_and_the_command() -> None:
    dog, _, notifier = watchdog()
    failure = {
        "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": {
            "Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": "incoming/credits+2026-01.csv"}}}]
        },
        "responsePayload": {"errorType": "MemoryError", "errorMessage": ""},
    }
    dog.splitter_failed(json.dumps(failure))

    [alert] = notifier.alerts
    assert alert.kind == "splitter_crashed"
    assert alert.file == f"s3://{BUCKET}/incoming/credits 2026-01.csv"
    assert "MemoryError" in alert.reason
    assert "scripts/reprocess.py --key 'incoming/credits 2026-01.csv' --force" in alert.fix


def test_an_export_missing_parts_long_after_its_manifest_is_told_once() -> None:
    dog, objects, notifier = watchdog()
    objects.put(BUCKET, manifest_key("2026-01"), manifest(BUCKET, "2026-01", parts=3))
    objects.put(BUCKET, part_key("2026-01", 1), b"part one")
    later = datetime.now(UTC) + timedelta(hours=25)

    assert dog.check_waiting_exports(datetime.now(UTC)) == []  # not yet overdue
    assert dog.check_waiting_exports(later) == [manifest_key("2026-01")]
    assert dog.check_waiting_exports(later) == [manifest_key("2026-01")]  # still waiting: told once
    [alert] = notifier.alerts
    assert (alert.kind, alert.months) == ("export_incomplete", ["2026-01"])
    assert "2 parts are not in the bucket" in alert.reason
    assert len(alert.subject) < 100  # SNS's Publish refuses a subject of 100 characters or more

    for number in (2, 3):
        objects.put(BUCKET, part_key("2026-01", number), b"part")
    assert dog.check_waiting_exports(later) == []


def test_export_parts_whose_manifest_never_came_are_told_once_and_not_while_they_still_arrive() -> None:
    # Say only the export's data/ folder was copied into incoming/: a part alone is never pushed.
    dog, objects, notifier = watchdog()
    objects.put(BUCKET, part_key("2026-01", 1), b"part one")
    objects.put(BUCKET, part_key("2026-01", 2), b"part two")
    later = datetime.now(UTC) + timedelta(hours=25)

    assert dog.check_waiting_exports(datetime.now(UTC)) == []  # the manifest is written last: not yet overdue
    assert dog.check_waiting_exports(later) == [manifest_key("2026-01")]
    assert dog.check_waiting_exports(later) == [manifest_key("2026-01")]  # still waiting: told once
    [alert] = notifier.alerts
    assert (alert.kind, alert.months) == ("export_incomplete", ["2026-01"])
    assert alert.file == f"s3://{BUCKET}/{manifest_key('2026-01')}"
    assert "2 parts are in the bucket, their manifest is not" in alert.reason
    assert "upload the export's manifest" in alert.fix

    objects.put(BUCKET, manifest_key("2026-01"), manifest(BUCKET, "2026-01", parts=2))
    assert dog.check_waiting_exports(later) == []


def test_a_splitter_failure_delivered_twice_is_told_once_and_another_failure_of_the_file_again() -> None:
    dog, _, notifier = watchdog()
    key = "incoming/credits-2026-01.csv"
    records = [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": key}}}]

    def failure(request_id: str) -> str:
        return json.dumps(
            {
                "requestContext": {"requestId": request_id, "condition": "RetriesExhausted"},
                "requestPayload": {"Records": records},
                "responsePayload": {"errorType": "MemoryError", "errorMessage": ""},
            }
        )

    dog.splitter_failed(failure("request-1"))
    dog.splitter_failed(failure("request-1"))  # SQS delivered the same record again
    assert [alert.file for alert in notifier.alerts] == [f"s3://{BUCKET}/{key}"]

    dog.splitter_failed(failure("request-2"))  # the file failed again, after a reprocess
    assert len(notifier.alerts) == 2


def test_an_export_whose_parts_were_rewritten_and_no_new_manifest_followed_is_told_once() -> None:
    # A refresh in place that stopped before its manifest: the splitter waits for it (never a mixed month).
    world = World()
    rows = month_rows(seed=7)
    for number, part in enumerate((rows[0::2], rows[1::2]), start=1):
        world.objects.put(BUCKET, part_key("2026-01", number), cur2_part("2026-01", part))
    world.upload(manifest_key("2026-01"), manifest(BUCKET, "2026-01", parts=2))
    notifier = FakeNotifier()
    dog = Watchdog(world.objects, notifier, InMemoryOnce(), BUCKET, "incoming/", records=world.records)
    later = datetime.now(UTC) + timedelta(hours=25)
    assert dog.check_waiting_exports(later) == []  # read whole: nothing waits

    world.objects.put(BUCKET, part_key("2026-01", 1), cur2_part("2026-01", rows[:3]))  # the refresh begins
    assert dog.check_waiting_exports(datetime.now(UTC)) == []  # its manifest may still come
    assert dog.check_waiting_exports(later) == [manifest_key("2026-01")]
    assert dog.check_waiting_exports(later) == [manifest_key("2026-01")]  # told once
    [alert] = notifier.alerts
    assert (alert.kind, alert.months) == ("export_incomplete", ["2026-01"])
    assert "rewritten after its manifest was read" in alert.reason
    assert f"scripts/reprocess.py --key {manifest_key('2026-01')} --force" in alert.fix


# --- told once means delivered once ---------------------------------------------------------------------


def test_an_alert_the_topic_refused_is_told_on_the_next_run_and_the_run_fails_meanwhile() -> None:
    dog, _, notifier = watchdog(day=5)
    notifier.refusals = 1  # SNS throttles this run's publish
    day6 = datetime(2026, 11, 6, 9, tzinfo=UTC)

    with pytest.raises(ChecksFailed, match="a month with no file"):
        dog.run_checks(day6)  # the run fails: Lambda retries it and WatchdogErrorsAlarm fires
    assert notifier.alerts == []

    assert dog.run_checks(day6 + timedelta(days=1)) == {"file_late": True, "exports_waiting": [], "months_stuck": []}
    assert dog.run_checks(day6 + timedelta(days=2))["file_late"] is True
    assert notifier.kinds() == ["no_file_yet"]  # told once, when the topic took it


def test_a_splitter_failure_the_topic_refused_is_told_when_its_record_comes_back() -> None:
    dog, _, notifier = watchdog()
    failure = json.dumps(
        {
            "requestPayload": {"Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": "incoming/a.csv"}}}]},
            "responsePayload": {"errorType": "MemoryError", "errorMessage": ""},
        }
    )
    notifier.refusals = 1
    with pytest.raises(ChecksFailed):
        dog.splitter_failed(failure)  # the record goes back to its queue, not deleted
    dog.splitter_failed(failure)
    dog.splitter_failed(failure)
    assert notifier.kinds() == ["splitter_crashed"]


def test_a_manifest_the_watchdog_cannot_read_keeps_no_other_export_from_being_told() -> None:
    dog, objects, notifier = watchdog(day=None)
    # A legacy CUR manifest copied from the account's own CUR bucket names its parts there: HeadObject is denied.
    foreign = manifest("cur-bucket-of-the-payer", "2026-01", parts=1)
    objects.put(BUCKET, manifest_key("2026-01"), foreign)
    objects.denied_buckets.add("cur-bucket-of-the-payer")
    objects.put(BUCKET, manifest_key("2026-02"), manifest(BUCKET, "2026-02", parts=2))  # its parts never came
    later = datetime.now(UTC) + timedelta(hours=25)

    with pytest.raises(ChecksFailed, match="AccessDenied"):
        dog.run_checks(later)

    [alert] = notifier.alerts  # February's missing parts are told all the same
    assert (alert.kind, alert.months) == ("export_incomplete", ["2026-02"])


# --- a month never pushed -------------------------------------------------------------------------------

FEBRUARY = b"000000000001,$10.00\n000000000002,$20.50\n"


def world_watchdog(world: World) -> tuple[Watchdog, FakeNotifier]:
    notifier = FakeNotifier()
    dog = Watchdog(world.objects, notifier, InMemoryOnce(), BUCKET, "incoming/", records=world.records)
    return dog, notifier


def test_a_month_whose_message_was_lost_is_told_once_a_day_after_it_was_accepted() -> None:
    world = World()
    report = world.upload("incoming/credits-2026-02.csv", FEBRUARY)
    world.queue.sent.clear()  # its message is gone: the month queue was purged
    dog, notifier = world_watchdog(world)
    now = datetime.now(UTC)

    assert dog.run_checks(now + timedelta(hours=23))["months_stuck"] == []  # the queue may still be retrying it
    assert dog.run_checks(now + timedelta(hours=25))["months_stuck"] == [
        "2026-02 s3://credits-bucket/incoming/credits-2026-02.csv"
    ]
    dog.run_checks(now + timedelta(hours=49))
    [alert] = notifier.alerts  # told once
    assert (alert.kind, alert.months, alert.file) == (
        "month_stuck",
        ["2026-02"],
        "s3://credits-bucket/incoming/credits-2026-02.csv",
    )
    assert "never pushed" in alert.title
    assert alert.fix.endswith("python scripts/replay.py --month 2026-02 --stack-name credits-pipeline")
    assert alert.report == f"s3://{BUCKET}/reports/{report.file.sha256}.json"


def test_a_month_waiting_in_the_dead_letter_queue_is_told_again_a_day_later_with_the_redrive() -> None:
    world = World()
    world.upload("incoming/credits-2026-02.csv", FEBRUARY)
    world.cloudzero.fail_next(CloudZeroRejected(400, "row 1: cost/cost is not a number"))
    world.deliver(world.queue.sent[-1].body)
    dog, notifier = world_watchdog(world)

    dog.run_checks(datetime.now(UTC) + timedelta(hours=25))

    [alert] = notifier.alerts
    assert alert.kind == "month_stuck" and "dead-letter queue" in alert.title
    assert "cost/cost is not a number" in alert.reason
    assert "python scripts/redrive.py --stack-name credits-pipeline" in alert.fix


def test_pushed_months_and_months_another_file_took_over_are_not_told() -> None:
    world = World()
    world.upload("incoming/credits-2026-01.csv", b"000000000001,$5.00\n")
    world.deliver(world.queue.sent[-1].body)  # pushed
    world.upload("incoming/credits-2026-02.csv", FEBRUARY, event_time="2026-03-01T09:00:00.000Z")
    world.upload("incoming/credits-2026-02-fixed.csv", b"000000000001,$7.00\n", event_time="2026-03-01T10:00:00.000Z")
    world.deliver(world.queue.sent[-1].body)  # the fixed file is February's truth, pushed; the first never will be
    dog, notifier = world_watchdog(world)

    assert dog.run_checks(datetime.now(UTC) + timedelta(hours=25))["months_stuck"] == []
    assert notifier.alerts == []


def test_a_month_judged_superseded_whose_file_became_the_truth_again_unpushed_is_told() -> None:
    # What an interrupted move of the truth could leave: the file is the month's truth, its month was
    # judged superseded, and nothing is on its way to push it.
    world = World()
    first = world.upload("incoming/credits-2026-02.csv", FEBRUARY, event_time="2026-03-01T09:00:00.000Z")
    world.upload("incoming/credits-2026-02-b.csv", b"000000000001,$7.00\n", event_time="2026-03-01T10:00:00.000Z")
    assert world.deliver(world.queue.sent[0].body).status == "superseded"
    bucket, key = first.file.bucket, first.file.key
    world.records.accept_month("2026-02", first.file.sha256, bucket, key, "2026-03-01T11:00:00.000Z", force=True)
    dog, notifier = world_watchdog(world)

    assert dog.run_checks(datetime.now(UTC) + timedelta(hours=25))["months_stuck"] == [f"2026-02 s3://{bucket}/{key}"]
    [alert] = notifier.alerts
    assert alert.kind == "month_stuck" and "never pushed" in alert.title


def test_a_month_never_pushed_is_told_though_its_file_is_uploaded_again_every_day() -> None:
    # Its message lost; then a job copies the same bytes to the same key every morning. Each copy is a duplicate
    # (nothing queued) and changes the file's record, but not how long the month has waited.
    start = datetime(2026, 3, 1, 9, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        world = World()
        world.upload("incoming/credits-2026-02.csv", FEBRUARY)
        world.queue.sent.clear()
        dog, notifier = world_watchdog(world)
        for day in (1, 2, 3):
            clock.move_to(start + timedelta(days=day))
            copied = f"2026-03-0{1 + day}T09:00:00.000Z"
            assert world.upload("incoming/credits-2026-02.csv", FEBRUARY, event_time=copied).status == "duplicate"
            clock.move_to(start + timedelta(days=day, hours=2))
            dog.run_checks()

    [alert] = notifier.alerts  # told on the first day past the wait, and once
    assert (alert.kind, alert.months) == ("month_stuck", ["2026-02"])
    assert world.queue.sent == []  # nothing queued it meanwhile: the alert is the only word of it


def test_a_month_queued_again_waits_a_whole_day_from_then_and_is_told_again_if_it_is_lost_again() -> None:
    start = datetime(2026, 3, 1, 9, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        world = World()
        first = world.upload("incoming/credits-2026-02.csv", FEBRUARY)
        world.queue.sent.clear()
        dog, notifier = world_watchdog(world)
        clock.move_to(start + timedelta(hours=25))
        dog.run_checks()
        assert notifier.kinds() == ["month_stuck"]
        # The operator replays the month (its report shows it queued again), and that message is lost too.
        world.records.update(first.file.sha256, lambda r: r.mark_month("2026-02", "pending", "pushed again replay-1"))
        clock.move_to(start + timedelta(hours=26))
        dog.run_checks()
        clock.move_to(start + timedelta(hours=48))
        dog.run_checks()
        assert notifier.kinds() == ["month_stuck"]  # the replay's message may still be on its way
        clock.move_to(start + timedelta(hours=51))
        dog.run_checks()

    assert notifier.kinds() == ["month_stuck", "month_stuck"]
    assert "pushed again replay-1" in notifier.alerts[-1].reason


def test_a_stuck_month_whose_alert_the_topic_refused_keeps_no_other_month_from_being_told() -> None:
    world = World()
    world.upload("incoming/credits-2026-01.csv", b"000000000001,$5.00\n", event_time="2026-02-01T09:00:00.000Z")
    world.upload("incoming/credits-2026-02.csv", FEBRUARY, event_time="2026-03-01T09:00:00.000Z")
    world.queue.sent.clear()  # both messages lost
    dog, notifier = world_watchdog(world)
    notifier.refusals = 1  # SNS throttles the first publish of the run
    later = datetime.now(UTC) + timedelta(hours=25)

    with pytest.raises(ChecksFailed, match="never pushed"):
        dog.run_checks(later)  # the run fails, so WatchdogErrorsAlarm fires and Lambda retries it
    assert len(notifier.alerts) == 1  # the other month was told in the same run

    dog.run_checks(later + timedelta(hours=1))
    assert sorted(month for alert in notifier.alerts for month in alert.months) == ["2026-01", "2026-02"]


def test_a_record_written_before_months_kept_their_own_clock_is_judged_by_the_records() -> None:
    start = datetime(2026, 3, 1, 9, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        world = World()
        report = world.upload("incoming/credits-2026-02.csv", FEBRUARY)
    world.queue.sent.clear()
    stored = json.loads(world.records.reports[report.file.sha256])
    for month in stored["months"].values():
        del month["since"]  # as an older pusher wrote it
    world.records.reports[report.file.sha256] = json.dumps(stored)
    dog, notifier = world_watchdog(world)

    assert dog.run_checks(start + timedelta(hours=23))["months_stuck"] == []
    assert dog.run_checks(start + timedelta(hours=25))["months_stuck"] == [
        "2026-02 s3://credits-bucket/incoming/credits-2026-02.csv"
    ]
    assert notifier.kinds() == ["month_stuck"]


@pytest.mark.parametrize("upload", ["last month's file sent again", "a file that is rejected"])
def test_an_upload_this_month_that_is_not_this_months_file_does_not_silence_the_late_file_alert(upload: str) -> None:
    # Last month's file, pushed; then this month only a repeat of it (a duplicate: nothing queued, nobody told),
    # or a file the splitter rejects (told once, as a rejection, not as a month with no file).
    october = b"000000000001,$10.00\n"
    this_month = {
        "last month's file sent again": ("incoming/credits-2026-10.csv", october, "duplicate"),
        "a file that is rejected": ("incoming/credits-2026-11.csv", b"not,a credits file\nat,all\n", "rejected"),
    }
    key, data, outcome = this_month[upload]
    with time_machine.travel(datetime(2026, 10, 3, 10, tzinfo=UTC), tick=False) as clock:
        world = World()
        world.upload("incoming/credits-2026-10.csv", october, event_time="2026-10-03T10:00:00.000Z")
        clock.move_to(datetime(2026, 11, 2, 10, tzinfo=UTC))
        assert world.upload(key, data, event_time="2026-11-02T10:00:00.000Z").status == outcome
        notifier = FakeNotifier()
        dog = Watchdog(
            world.objects, notifier, InMemoryOnce(), BUCKET, "incoming/", expect_file_by_day=5, records=world.records
        )
        day6 = datetime(2026, 11, 6, 9, tzinfo=UTC)
        clock.move_to(day6)

        assert dog.check_expected_file(day6) is True
    assert notifier.kinds() == ["no_file_yet"]


def test_a_run_reads_the_file_records_once() -> None:
    # Both the late-file check and the stuck-month check read every file's record: one scan of the table a run.
    with time_machine.travel(datetime(2026, 11, 2, 10, tzinfo=UTC), tick=False) as clock:
        world = World()
        world.upload("incoming/credits-2026-11.csv", b"000000000001,$10.00\n", event_time="2026-11-02T10:00:00.000Z")
        scans = 0
        every_report = world.records.every_report

        def counted() -> Any:
            nonlocal scans
            scans += 1
            return every_report()

        world.records.every_report = counted  # type: ignore[method-assign]
        dog = Watchdog(
            world.objects,
            FakeNotifier(),
            InMemoryOnce(),
            BUCKET,
            "incoming/",
            expect_file_by_day=5,
            records=world.records,
        )
        day6 = datetime(2026, 11, 6, 9, tzinfo=UTC)
        clock.move_to(day6)

        result = dog.run_checks(day6)

    assert result["file_late"] is False  # the month's file was accepted: read from the records
    assert scans == 1


def test_an_export_delivered_this_month_is_this_months_file() -> None:
    # CUR 2.0 and FOCUS exports arrive as parts, then their manifest: the accepted delivery keeps the check quiet.
    with time_machine.travel(datetime(2026, 11, 2, 10, tzinfo=UTC), tick=False) as clock:
        world = World()
        rows = month_rows(seed=3)
        for number in (1, 2):  # a part alone waits for its manifest: no report yet
            world.objects.put(BUCKET, part_key("2026-10", number), cur2_part("2026-10", rows[number::2]))
            assert world.splitter.split_upload(Upload(bucket=BUCKET, key=part_key("2026-10", number))) is None
        delivered = world.upload(manifest_key("2026-10"), manifest(BUCKET, "2026-10", parts=2))
        notifier = FakeNotifier()
        dog = Watchdog(
            world.objects, notifier, InMemoryOnce(), BUCKET, "incoming/", expect_file_by_day=5, records=world.records
        )
        day6 = datetime(2026, 11, 6, 9, tzinfo=UTC)
        clock.move_to(day6)

        assert delivered.status == "pending"  # accepted, its month queued
        assert dog.check_expected_file(day6) is False
    assert notifier.alerts == []
