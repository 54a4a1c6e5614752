"""The splitter wired with in-memory fakes at its ports: what an upload turns into, and what it must not."""

import gzip
import hashlib
import json
from decimal import Decimal

import pytest

from credits_pipeline.domain.cbf import MonthLimit
from credits_pipeline.domain.messages import MonthManifest
from credits_pipeline.formats.base import ArchiveLimits, ParseConfig
from credits_pipeline.services.ports import OutcomeUnknown
from credits_pipeline.services.pusher import MonthCutShort
from credits_pipeline.services.splitter import Upload
from tests.fakes import BUCKET, PointerMovesAfterItIsRead, World

FEBRUARY = b"000000000001,$10.00\n000000000002,$20.50\n"
FEBRUARY_TOTAL = -(Decimal("10.00") + Decimal("20.50"))
# A hand-made sheet with a month column: two months in one file.
TWO_MONTHS = (
    b"Account ID,Month,Amount\n000000000001,2026-01,10.00\n000000000002,2026-01,20.50\n000000000003,2026-02,5.00\n"
)


def identity(data: bytes, month: str | None = None) -> str:
    """What a file is filed under: its bytes' SHA-256, bound to the month its name gives."""
    content = hashlib.sha256(data).hexdigest()
    return hashlib.sha256(f"{content}|{month}".encode()).hexdigest() if month else content


def test_an_accepted_file_leaves_one_batch_and_one_message_per_month_and_a_pending_report() -> None:
    world = World()
    report = world.upload("incoming/two-months.csv", TWO_MONTHS)

    sha = identity(TWO_MONTHS)  # no month in the name: the bytes alone
    assert report.file.sha256 == sha
    assert report.status == "pending"
    assert {month: (r.status, r.accounts, r.total) for month, r in report.months.items()} == {
        "2026-01": ("pending", 2, Decimal("-30.50")),
        "2026-02": ("pending", 1, Decimal("-5.00")),
    }
    # Each month: its manifest, and its one body beside it.
    assert world.objects.keys("batches/") == [
        f"batches/{sha}/2026-01.json",
        f"batches/{sha}/2026-01/chunk-0000.json",
        f"batches/{sha}/2026-02.json",
        f"batches/{sha}/2026-02/chunk-0000.json",
    ]
    january = MonthManifest.model_validate_json(world.objects.objects[(BUCKET, f"batches/{sha}/2026-01.json")])
    [chunk] = january.chunks
    body = json.loads(world.objects.objects[(BUCKET, chunk.key)])
    assert {(row["resource/account"], Decimal(row["cost/cost"])) for row in body["data"]} == {
        ("000000000001", Decimal("-10.00")),
        ("000000000002", Decimal("-20.50")),
    }
    messages = sorted(world.queue.messages, key=lambda m: m.month)
    assert [(m.month, m.accounts, m.total, m.batch_key) for m in messages] == [
        ("2026-01", 2, Decimal("-30.50"), f"batches/{sha}/2026-01.json"),
        ("2026-02", 1, Decimal("-5.00"), f"batches/{sha}/2026-02.json"),
    ]
    assert {sent.deduplication_id for sent in world.queue.sent} == {f"{sha}-2026-01", f"{sha}-2026-02"}
    # Each month now points at this file as its truth.
    assert {m: p["sha256"] for m, p in world.records.months.items()} == {"2026-01": sha, "2026-02": sha}
    published = world.published_report(sha)
    assert (published["status"], sorted(published["months"])) == ("pending", ["2026-01", "2026-02"])
    assert [u["outcome"] for u in published["uploads"]] == ["accepted"]
    assert world.objects.tags[(BUCKET, "incoming/two-months.csv")] == {
        "credits-pipeline-status": "accepted",
        "credits-pipeline-sha256": sha,
    }
    assert world.cloudzero.calls == []  # the splitter never talks to CloudZero


def test_the_same_bytes_under_another_key_are_a_duplicate_and_queue_nothing() -> None:
    world = World()
    world.upload("incoming/credits-2026-02.csv", FEBRUARY, event_time="2026-03-01T09:00:00.000Z")
    again = world.upload("incoming/credits-2026-02 (copy).csv", FEBRUARY, event_time="2026-03-01T09:05:00.000Z")

    assert again.status == "duplicate"
    assert again.file.sha256 == identity(FEBRUARY, "2026-02")
    assert again.file.key == "incoming/credits-2026-02.csv"  # the file is still the first upload
    assert [(u.key, u.outcome) for u in again.uploads] == [
        ("incoming/credits-2026-02.csv", "accepted"),
        ("incoming/credits-2026-02 (copy).csv", "duplicate"),
    ]
    assert len(world.queue.sent) == 1
    assert world.objects.tags[(BUCKET, "incoming/credits-2026-02 (copy).csv")]["credits-pipeline-status"] == (
        "duplicate"
    )
    assert world.published_report(again.file.sha256)["status"] == "duplicate"


def test_the_same_upload_event_delivered_twice_is_neither_a_duplicate_nor_recorded_twice() -> None:
    world = World()
    first = world.upload("incoming/credits-2026-02.csv", FEBRUARY, version_id="v1")
    second = world.upload("incoming/credits-2026-02.csv", FEBRUARY, version_id="v1")

    assert (first.status, second.status) == ("pending", "pending")
    assert [(u.key, u.version_id, u.outcome) for u in second.uploads] == [
        ("incoming/credits-2026-02.csv", "v1", "accepted")
    ]
    assert len(world.queue.sent) == 1
    assert world.records.load(identity(FEBRUARY, "2026-02")) == second


def test_an_invocation_that_failed_half_way_is_retried_whole_and_records_the_upload_once() -> None:
    world = World()
    world.queue.fail_next(ConnectionError("SQS endpoint unreachable"))  # after the report was written

    with pytest.raises(ConnectionError):
        world.upload("incoming/sheet.csv", TWO_MONTHS, version_id="v1")
    retried = world.upload("incoming/sheet.csv", TWO_MONTHS, version_id="v1")  # Lambda's async retry

    assert retried.status == "pending"
    assert [(u.key, u.outcome) for u in retried.uploads] == [("incoming/sheet.csv", "accepted")]
    assert sorted(m.month for m in world.queue.messages) == ["2026-01", "2026-02"]


def test_a_rejected_file_is_reported_with_its_key_tagged_and_queues_nothing() -> None:
    world = World()
    key = "incoming/credits-2026-01.csv"
    report = world.upload(key, b"")

    assert report.status == "rejected"
    assert report.error is not None
    assert f"s3://{BUCKET}/{key}" in report.error and "empty" in report.error
    assert report.months == {}
    assert [(u.key, u.outcome) for u in report.uploads] == [(key, "rejected")]
    assert world.objects.tags[(BUCKET, key)]["credits-pipeline-status"] == "rejected"
    assert world.objects.objects[(BUCKET, key)] == b""  # the file is kept
    assert world.queue.sent == []
    assert world.objects.keys("batches/") == []
    assert json.loads(world.objects.objects[(BUCKET, f"reports/{identity(b'', '2026-01')}.json")])["status"] == (
        "rejected"
    )


@pytest.mark.parametrize(
    ("limit", "beyond"),
    [(MonthLimit(rows=1), "2 CloudZero rows"), (MonthLimit(bytes=200), "more than the 1,000,000 rows and 200 bytes")],
)
def test_a_month_beyond_what_cloudzero_holds_rejects_the_file_and_sends_nothing(limit: MonthLimit, beyond: str) -> None:
    world = World(month_limit=limit)
    key = "incoming/credits-2026-02.csv"

    report = world.upload(key, FEBRUARY)

    assert report.status == "rejected"
    assert report.error is not None
    assert f"s3://{BUCKET}/{key}" in report.error
    assert "2026-02 would be" in report.error and beyond in report.error
    assert "nothing was sent" in report.error and "CLOUDZERO_MONTH_MAX_ROWS" in report.error
    assert report.months == {}
    assert world.queue.sent == []
    assert world.objects.keys("batches/") == []  # refused before its bodies were stored
    assert world.records.months == {}  # no month points at the file
    assert world.objects.tags[(BUCKET, key)]["credits-pipeline-status"] == "rejected"
    [alert] = world.notifier.alerts
    assert "2026-02 would be" in alert.reason
    # At the limit the month goes.
    at_limit = World(month_limit=MonthLimit(rows=2)).upload(key, FEBRUARY)
    assert at_limit.status == "pending"


def test_the_same_bytes_named_for_two_months_are_two_files_not_a_duplicate() -> None:
    world = World()
    january = world.upload("incoming/credits-2026-01.csv", FEBRUARY)
    february = world.upload("incoming/credits-2026-02.csv", FEBRUARY)

    assert (january.status, february.status) == ("pending", "pending")
    assert (january.file.sha256, february.file.sha256) == (identity(FEBRUARY, "2026-01"), identity(FEBRUARY, "2026-02"))
    assert january.file.content_sha256 == february.file.content_sha256 == hashlib.sha256(FEBRUARY).hexdigest()
    assert list(january.months) == ["2026-01"] and list(february.months) == ["2026-02"]
    assert [(m.month, m.total) for m in world.queue.messages] == [
        ("2026-01", FEBRUARY_TOTAL),
        ("2026-02", FEBRUARY_TOTAL),
    ]


def test_the_same_bytes_in_two_month_folders_are_two_months_not_a_duplicate() -> None:
    # Regression: the identity read months from the file name only, the parser from the whole key, so
    # February's upload was filed as a duplicate of January's and never pushed.
    world = World()
    january = world.upload("incoming/2026-01/credits.csv", FEBRUARY)
    february = world.upload("incoming/2026-02/credits.csv", FEBRUARY)

    assert (january.status, sorted(january.months)) == ("pending", ["2026-01"])
    assert (february.status, sorted(february.months)) == ("pending", ["2026-02"])
    assert january.file.sha256 == identity(FEBRUARY, "2026-01")
    assert february.file.sha256 == identity(FEBRUARY, "2026-02")
    assert sorted(m.month for m in world.queue.messages) == ["2026-01", "2026-02"]


def test_a_month_in_a_key_outside_2000_2099_is_refused_like_a_month_column() -> None:
    world = World()
    report = world.upload("incoming/credits-1999-01.csv", FEBRUARY)

    assert report.status == "rejected"
    assert report.error is not None and "2000-2099" in report.error
    assert world.queue.messages == []


@pytest.mark.parametrize("fault", [MemoryError(), OSError(28, "No space left on device"), ValueError("a bug of ours")])
def test_a_fault_that_is_not_the_files_fails_loudly_and_the_retry_accepts_the_file(fault: BaseException) -> None:
    # Regression: MemoryError, OSError and ValueError were read as "damaged file" and the upload was
    # rejected for good. They fail the invocation (Lambda retries); the file is not marked rejected.
    world = World()
    world.objects.read_fault = fault
    with pytest.raises(type(fault)):
        world.upload("incoming/credits-2026-02.csv", FEBRUARY)
    sha = identity(FEBRUARY, "2026-02")
    assert world.records.load(sha) is None  # no report says "rejected"
    assert world.objects.tags == {}
    assert world.queue.messages == []

    world.objects.read_fault = None  # the retry runs on a healthy host
    retried = world.upload("incoming/credits-2026-02.csv", FEBRUARY)
    assert (retried.status, retried.months["2026-02"].total) == ("pending", FEBRUARY_TOTAL)
    assert [m.month for m in world.queue.messages] == ["2026-02"]


def test_an_object_outside_the_incoming_prefix_is_ignored() -> None:
    # The bucket also holds the pipeline's own batches and reports: reading them back would loop.
    world = World()
    world.splitter.incoming_prefix = "incoming/"
    world.objects.put(BUCKET, "reports/abc.json", b"{}")

    assert world.splitter.split_upload(Upload(bucket=BUCKET, key="reports/abc.json")) is None
    assert world.records.reports == {}
    assert world.queue.messages == []
    assert world.objects.tags == {}


def test_a_folder_made_in_the_s3_console_under_the_prefix_is_no_file_and_raises_no_alert() -> None:
    world = World()
    world.splitter.incoming_prefix = "incoming/"
    world.objects.put(BUCKET, "incoming/2026-01/", b"")

    assert world.splitter.split_upload(Upload(bucket=BUCKET, key="incoming/2026-01/", size=0)) is None
    assert world.notifier.alerts == []  # not "a credits file was rejected"
    assert world.records.reports == {}
    assert world.objects.tags == {}


def test_a_retried_acceptance_keeps_the_months_the_pusher_already_pushed() -> None:
    # The splitter died after queueing its first month; the pusher pushed it; Lambda's retry accepts the
    # file again. The pushed month must stay pushed (its re-sent message is dropped by FIFO de-duplication,
    # so nothing else would ever mark it again).
    world = World()
    world.queue.fail_next(ConnectionError("the host died"), after=1)  # right after the first message is queued
    with pytest.raises(ConnectionError):
        world.upload("incoming/two-months.csv", TWO_MONTHS)
    [first] = world.queue.sent
    assert world.deliver(first.body).status == "pushed"

    report = world.upload("incoming/two-months.csv", TWO_MONTHS)

    months = {month: state.status for month, state in report.months.items()}
    assert months == {first.message.month: "pushed", **{m: "pending" for m in months if m != first.message.month}}
    assert report.status == "pending"
    for sent in world.queue.sent[1:]:
        world.deliver(sent.body, delivery_id=f"d-{sent.deduplication_id}")
    sha = identity(TWO_MONTHS)
    assert world.report(sha).status == "pushed"
    assert world.cloudzero.month_total("2026-01") + world.cloudzero.month_total("2026-02") == Decimal("-35.50")


def test_a_decompression_bomb_is_rejected_kept_and_nothing_is_queued() -> None:
    limits = ArchiveLimits(max_compression_ratio=100, ratio_checked_after=256 * 1024)
    world = World(config=ParseConfig(limits=limits))
    bomb = gzip.compress(b"000000000001,$1.00\n" * 120_000, mtime=0)

    report = world.upload("incoming/credits-2026-02.csv.gz", bomb)

    assert report.status == "rejected"
    assert report.error is not None and "decompression bomb" in report.error
    assert "incoming/credits-2026-02.csv.gz" in report.error
    assert world.queue.messages == []
    assert world.objects.tags[(BUCKET, "incoming/credits-2026-02.csv.gz")]["credits-pipeline-status"] == "rejected"
    assert (BUCKET, "incoming/credits-2026-02.csv.gz") in world.objects.objects  # the upload is kept


def test_short_account_ids_are_padded_and_listed_in_the_report() -> None:
    # Regression: an 11-digit id was padded silently; a dropped digit would credit another account.
    world = World()
    report = world.upload("incoming/credits-2026-02.csv", b"12345678901,$10.00\n000000000002,$20.50\n")

    assert report.padded_total == 1
    assert [(p.line, p.account_id) for p in report.padded_ids] == [(1, "012345678901")]
    assert world.published_report(report.file.sha256)["padded_total"] == 1
    assert report.months["2026-02"].total == FEBRUARY_TOTAL


def test_configuration_can_refuse_short_account_ids() -> None:
    world = World(config=ParseConfig(pad_account_ids=False, max_invalid_share=Decimal("0.5")))
    report = world.upload("incoming/credits-2026-02.csv", b"12345678901,$10.00\n000000000002,$20.50\n")

    [skipped] = report.skipped
    assert (skipped.line, skipped.account_id) == (1, "12345678901")
    assert "ACCOUNT_ID_PADDING=refuse" in skipped.reason
    assert report.months["2026-02"].total == Decimal("-20.50")


def test_a_file_rejected_for_a_setting_is_read_again_once_the_setting_is_fixed() -> None:
    # Regression: the re-upload of a rejected file was a `duplicate` for ever, whatever the settings.
    euros = b"Account ID,Month,Amount,Currency\n000000000001,2026-01,10.00,EUR\n000000000002,2026-01,5.00,EUR\n"
    world = World()
    first = world.upload("incoming/credits-eur.csv", euros)
    assert first.status == "rejected"
    assert "EUR" in (first.error or "")

    world.splitter.config = ParseConfig(currencies=frozenset({"USD", "EUR"}))  # the operator fixed Currencies
    again = world.upload("incoming/credits-eur.csv", euros, event_time="2026-03-02T09:00:00.000Z")

    assert again.status == "pending"
    assert again.file.sha256 == first.file.sha256
    assert [u.outcome for u in again.uploads] == ["rejected", "accepted"]
    assert [(m.month, m.total) for m in world.queue.messages] == [("2026-01", Decimal("-15.00"))]
    # The same bytes once more are now a plain duplicate: nothing is queued again.
    assert world.upload("incoming/credits-eur.csv", euros, event_time="2026-03-03T09:00:00.000Z").status == "duplicate"
    assert len(world.queue.messages) == 1


# --- the latest upload of a month is its truth, also when it repeats an earlier file's bytes -----------------

WRONG = b"000000000001,$1000.00\n000000000002,$20.50\n"
WRONG_TOTAL = -(Decimal("1000.00") + Decimal("20.50"))
FEBRUARY_KEY = "incoming/credits-2026-02.csv"


def push_all(world: World, seen: int = 0) -> int:
    """Deliver every month message sent since `seen` to the pusher; how many were sent in all."""
    for sent in world.queue.sent[seen:]:
        world.deliver(sent.body, delivery_id=f"delivery-{sent.deduplication_id}")
    return len(world.queue.sent)


def test_the_right_file_uploaded_again_after_a_wrong_one_is_pushed_again_and_is_the_truth() -> None:
    world = World()
    good = world.upload(FEBRUARY_KEY, FEBRUARY, event_time="2026-03-01T09:00:00.000Z", version_id="v1")
    seen = push_all(world)
    world.upload(FEBRUARY_KEY, WRONG, event_time="2026-03-01T10:00:00.000Z", version_id="v2")  # a mistake
    seen = push_all(world, seen)
    assert world.cloudzero.month_total("2026-02") == WRONG_TOTAL

    again = world.upload(FEBRUARY_KEY, FEBRUARY, event_time="2026-03-01T11:00:00.000Z", version_id="v3")
    assert again.months["2026-02"].status == "pending"
    assert world.records.months["2026-02"]["sha256"] == good.file.sha256  # the month's truth again
    push_all(world, seen)

    assert world.cloudzero.month_total("2026-02") == FEBRUARY_TOTAL  # total in == total out
    month = world.report(good.file.sha256).months["2026-02"]
    assert (month.status, month.verified) == ("pushed", True)
    assert [u.outcome for u in world.report(good.file.sha256).uploads] == ["accepted", "duplicate"]
    assert world.objects.tags[(BUCKET, FEBRUARY_KEY)]["credits-pipeline-status"] == "duplicate"


def test_an_upload_of_the_bytes_cloudzero_holds_sends_nothing_and_a_retried_event_queues_one_push() -> None:
    world = World()
    good = world.upload(FEBRUARY_KEY, FEBRUARY, event_time="2026-03-01T09:00:00.000Z", version_id="v1")
    seen = push_all(world)
    world.upload("incoming/credits-2026-02 (copy).csv", FEBRUARY, event_time="2026-03-01T09:30:00.000Z")
    assert len(world.queue.sent) == seen  # CloudZero holds these bytes already: a plain duplicate

    world.upload(FEBRUARY_KEY, WRONG, event_time="2026-03-01T10:00:00.000Z", version_id="v2")
    seen = push_all(world, seen)
    world.queue.fail_next(RuntimeError("SQS is unavailable"))
    with pytest.raises(RuntimeError):
        world.upload(FEBRUARY_KEY, FEBRUARY, event_time="2026-03-01T11:00:00.000Z", version_id="v3")
    assert "not queued (SQS is unavailable)" in (world.report(good.file.sha256).months["2026-02"].error or "")
    # Lambda retries the event: the push is queued now, once, whatever the retries.
    for _ in range(2):
        world.upload(FEBRUARY_KEY, FEBRUARY, event_time="2026-03-01T11:00:00.000Z", version_id="v3")
    queued = world.queue.sent[seen:]
    assert len({sent.deduplication_id for sent in queued}) == 1
    push_all(world, seen)
    assert world.cloudzero.month_total("2026-02") == FEBRUARY_TOTAL


def test_an_earlier_upload_of_the_same_bytes_delivered_late_does_not_take_the_month_back() -> None:
    world = World()
    world.upload(FEBRUARY_KEY, FEBRUARY, event_time="2026-03-01T09:00:00.000Z", version_id="v1")
    seen = push_all(world)
    wrong = world.upload(FEBRUARY_KEY, WRONG, event_time="2026-03-01T10:00:00.000Z", version_id="v2")
    seen = push_all(world, seen)

    # A copy of the first file made before the second upload, whose event S3 delivers only now.
    world.upload("incoming/credits-2026-02 (copy).csv", FEBRUARY, event_time="2026-03-01T09:30:00.000Z")

    assert len(world.queue.sent) == seen  # nothing queued: the later upload stays the truth
    assert world.records.months["2026-02"]["sha256"] == wrong.file.sha256
    assert world.cloudzero.month_total("2026-02") == WRONG_TOTAL


def test_the_right_file_uploaded_again_after_a_wrong_ones_push_broke_off_midway_is_pushed_again() -> None:
    # The wrong file's replace_drop landed, its sum did not: CloudZero holds part of it, and its last
    # whole push (the right file's) is no sign of what CloudZero holds.
    world = World()
    world.upload(FEBRUARY_KEY, FEBRUARY, event_time="2026-03-01T09:00:00.000Z", version_id="v1")
    seen = push_all(world)
    accounts = 40_000  # two chunks
    wrong = "".join(f"{n:012d},$1.{n % 100:02d}\n" for n in range(1, accounts + 1)).encode()
    world.upload(FEBRUARY_KEY, wrong, event_time="2026-03-01T10:00:00.000Z", version_id="v2")
    world.cloudzero.fail_next(OutcomeUnknown("chunk 1 of 2026-02 got no answer"), after=1)
    with pytest.raises(MonthCutShort):
        world.deliver(world.queue.sent[-1].body, delivery_id="wrong-1")
    seen += 1
    assert world.cloudzero.month_total("2026-02") != FEBRUARY_TOTAL

    world.upload(FEBRUARY_KEY, FEBRUARY, event_time="2026-03-01T11:00:00.000Z", version_id="v3")
    assert len(world.queue.sent) == seen + 1  # pushed again
    push_all(world, seen)
    assert world.cloudzero.month_total("2026-02") == FEBRUARY_TOTAL


def test_a_push_again_cut_short_and_overtaken_by_a_later_upload_does_not_stay_pending() -> None:
    class Killed(BaseException):
        """The function is stopped mid-send: nothing after it runs."""

    world = World()
    good = world.upload(FEBRUARY_KEY, FEBRUARY, event_time="2026-03-01T09:00:00.000Z", version_id="v1")
    seen = push_all(world)
    world.upload(FEBRUARY_KEY, WRONG, event_time="2026-03-01T10:00:00.000Z", version_id="v2")
    seen = push_all(world, seen)
    world.queue.fail_next(Killed())
    with pytest.raises(Killed):
        world.upload(FEBRUARY_KEY, FEBRUARY, event_time="2026-03-01T11:00:00.000Z", version_id="v3")
    later = b"000000000001,$7.00\n"
    world.upload(FEBRUARY_KEY, later, event_time="2026-03-01T11:01:00.000Z", version_id="v4")
    seen = push_all(world, seen)

    world.upload(FEBRUARY_KEY, FEBRUARY, event_time="2026-03-01T11:00:00.000Z", version_id="v3")  # the retry

    month = world.report(good.file.sha256).months["2026-02"]
    assert month.status == "superseded" and "a later upload is the truth" in (month.error or "")
    assert len(world.queue.sent) == seen  # nothing queued over the later upload
    assert world.cloudzero.month_total("2026-02") == Decimal("-7.00")


def test_the_right_file_uploaded_again_while_the_pusher_judges_its_first_message_superseded_is_pushed() -> None:
    world = World()
    good = world.upload(FEBRUARY_KEY, FEBRUARY, event_time="2026-03-01T09:00:00.000Z", version_id="v1")
    world.upload(FEBRUARY_KEY, WRONG, event_time="2026-03-01T10:00:00.000Z", version_id="v2")  # a mistake
    good_message, wrong_message = world.queue.sent[0].body, world.queue.sent[1].body

    def right_file_again() -> None:
        world.upload(FEBRUARY_KEY, FEBRUARY, event_time="2026-03-01T11:00:00.000Z", version_id="v3")

    # The pusher reads the pointer (the wrong file), the right file is uploaded again, the pusher supersedes.
    world.pusher.records = PointerMovesAfterItIsRead(world.records, right_file_again)
    assert world.deliver(good_message, delivery_id="good-1").status == "superseded"
    world.pusher.records = world.records
    assert world.deliver(wrong_message, delivery_id="wrong-1").status == "superseded"
    push_all(world, 2)  # the push the upload queued

    assert world.records.months["2026-02"]["sha256"] == good.file.sha256
    assert world.cloudzero.month_total("2026-02") == FEBRUARY_TOTAL  # total in == total out
    assert world.report(good.file.sha256).months["2026-02"].status == "pushed"
