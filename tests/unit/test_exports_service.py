"""A billing period delivered as several files: pushed once, whole, whatever order the files arrive in."""

import gzip
import itertools
from dataclasses import replace
from decimal import Decimal

import pytest

from credits_pipeline.domain.report import RunReport
from credits_pipeline.services.splitter import Upload
from tests.export_builders import credit_total, cur2_part, manifest, manifest_key, month_rows, part_key
from tests.fakes import BUCKET, PointerMovesAfterItIsRead, World

PERIOD = "2026-01"
ROWS = month_rows(seed=7)
THIRDS = [ROWS[0::3], ROWS[1::3], ROWS[2::3]]
TOTAL = credit_total(ROWS)
FILES = {part_key(PERIOD, n + 1): cur2_part(PERIOD, rows) for n, rows in enumerate(THIRDS)}
FILES[manifest_key(PERIOD)] = manifest(BUCKET, PERIOD, parts=3)


def delivered_and_pushed(world: World) -> RunReport | None:
    """The period's export delivered whole (its parts, then its manifest, as AWS writes them) and pushed."""
    for key, data in FILES.items():
        world.objects.put(BUCKET, key, data)
    report = world.splitter.split_upload(_upload(manifest_key(PERIOD)))
    deliver_all(world)
    return report


def deliver_all(world: World) -> None:
    """The pusher takes every queued month message, in order."""
    for sent in world.queue.sent:
        world.deliver(sent.body, delivery_id=f"d-{sent.deduplication_id}")


@pytest.mark.parametrize("order", list(itertools.permutations(FILES)))
def test_every_arrival_order_pushes_the_month_once_with_every_parts_credits(order: tuple[str, ...]) -> None:
    world = World()
    for key in order:
        world.objects.put(BUCKET, key, FILES[key])
        world.splitter.split_upload(_upload(key))

    assert [message.month for message in world.queue.messages] == [PERIOD]  # once, not once per part
    deliver_all(world)
    assert world.cloudzero.month_total(PERIOD) == TOTAL
    [drop] = world.cloudzero.drops
    assert drop.operation == "replace_drop"


def test_a_part_alone_is_never_pushed() -> None:
    world = World()
    for key in list(FILES)[:3]:
        world.objects.put(BUCKET, key, FILES[key])
        assert world.splitter.split_upload(_upload(key)) is None
    assert world.queue.messages == []
    assert world.records.reports == {}


def test_a_manifest_whose_parts_are_not_all_in_waits_and_pushes_nothing() -> None:
    world = World()
    for key in (part_key(PERIOD, 1), part_key(PERIOD, 3), manifest_key(PERIOD)):
        world.objects.put(BUCKET, key, FILES[key])
        assert world.splitter.split_upload(_upload(key)) is None  # part 2 is missing
    assert world.queue.messages == []

    report = world.upload(part_key(PERIOD, 2), FILES[part_key(PERIOD, 2)])  # the last part arrives
    assert report.status == "pending"
    assert [(p.key, p.size) for p in report.parts] == [
        (part_key(PERIOD, n), len(FILES[part_key(PERIOD, n)])) for n in (1, 2, 3)
    ]
    assert report.file.key == manifest_key(PERIOD)
    deliver_all(world)
    assert world.cloudzero.month_total(PERIOD) == TOTAL


def test_a_redelivered_part_after_the_push_sends_nothing_again() -> None:
    world = World()
    delivered_and_pushed(world)

    again = world.upload(part_key(PERIOD, 2), FILES[part_key(PERIOD, 2)], event_time="2026-02-02T00:00:00.000Z")

    assert again.status == "pushed"
    assert len(world.queue.messages) == 1
    assert world.cloudzero.month_total(PERIOD) == TOTAL


def test_a_restated_export_replaces_the_month_with_the_new_whole() -> None:
    world = World()
    delivered_and_pushed(world)

    restated_rows = month_rows(seed=8)
    halves = [restated_rows[0::2], restated_rows[1::2]]
    for number, rows in enumerate(halves, start=1):
        world.objects.put(BUCKET, part_key(PERIOD, number), cur2_part(PERIOD, rows))
    world.objects.objects.pop((BUCKET, part_key(PERIOD, 3)))
    world.upload(
        manifest_key(PERIOD), manifest(BUCKET, PERIOD, parts=2, execution="exec-2"), "2026-02-10T00:00:00.000Z"
    )
    deliver_all(world)

    assert world.cloudzero.month_total(PERIOD) == credit_total(restated_rows)
    assert [call.operation for call in world.cloudzero.drops] == ["replace_drop", "replace_drop"]


def test_an_export_refreshing_its_parts_in_place_is_pushed_only_whole_when_its_new_manifest_comes() -> None:
    # An OVERWRITE export delivers the period again: the same credits cut into other parts, each part
    # rewritten in place, the manifest written last. A part's event must not read the old manifest's list
    # with some parts new and some old: that month would add some credits twice and miss others.
    world = World()
    delivered_and_pushed(world)
    third = len(ROWS) // 3
    refreshed = [ROWS[:third], ROWS[third : 2 * third], ROWS[2 * third :]]

    for number, rows in enumerate(refreshed, start=1):
        world.objects.put(BUCKET, part_key(PERIOD, number), cur2_part(PERIOD, rows))
        assert world.splitter.split_upload(_upload(part_key(PERIOD, number), "2026-02-02T00:00:00.000Z")) is None
    assert len(world.queue.messages) == 1  # nothing queued while the parts were being rewritten

    world.upload(
        manifest_key(PERIOD), manifest(BUCKET, PERIOD, parts=3, execution="exec-2"), "2026-02-02T00:01:00.000Z"
    )
    deliver_all(world)
    assert len(world.queue.messages) == 2
    assert world.cloudzero.month_total(PERIOD) == TOTAL  # the same credits, whole, never mixed
    assert [call.operation for call in world.cloudzero.drops] == ["replace_drop", "replace_drop"]


def test_the_legacy_curs_copy_of_its_manifest_in_the_assembly_folder_is_no_rejected_file() -> None:
    # Every legacy CUR delivery writes it; read as a credits file it was rejected, with an alert, each month.
    world = World()
    key = "incoming/cur/kw/20260101-20260201/4f2a-assembly/kw-Manifest.json"
    world.objects.put(BUCKET, key, b'{"assemblyId": "4f2a-assembly", "reportKeys": []}')

    assert world.splitter.split_upload(_upload(key)) is None  # it waits for the period's manifest, like a part
    assert world.notifier.alerts == []
    assert world.records.reports == {}
    assert (BUCKET, key) not in world.objects.tags


def test_a_damaged_part_rejects_the_export_naming_the_part() -> None:
    world = World()
    for key, data in FILES.items():
        world.objects.put(BUCKET, key, data)
    world.objects.put(BUCKET, part_key(PERIOD, 2), b"\x1f\x8b\x08\x00broken")

    report = world.splitter.split_upload(_upload(manifest_key(PERIOD)))

    assert report is not None and report.status == "rejected"
    assert report.error is not None and part_key(PERIOD, 2) in report.error
    assert world.queue.messages == []


def test_an_unreadable_manifest_is_rejected() -> None:
    world = World()
    report = world.upload(manifest_key(PERIOD), b"{not json")
    assert report.status == "rejected"
    assert report.error is not None and "manifest" in report.error


def test_a_single_cur_file_outside_an_export_layout_is_pushed_alone() -> None:
    world = World()
    report = world.upload("incoming/cur2-2026-01.csv.gz", FILES[part_key(PERIOD, 1)])
    deliver_all(world)
    assert report.status == "pending"
    assert world.cloudzero.month_total(PERIOD) == credit_total(THIRDS[0])


def _upload(key: str, event_time: str = "2026-02-01T00:00:00.000Z") -> Upload:
    return Upload(bucket=BUCKET, key=key, event_time=event_time)


def test_a_part_without_credit_rows_does_not_reject_the_export() -> None:
    world = World()
    usage_only = [(account, abs(cost), "Usage") for account, cost, _ in THIRDS[1]]
    files = {**FILES, part_key(PERIOD, 2): cur2_part(PERIOD, usage_only)}
    for key, data in files.items():
        world.objects.put(BUCKET, key, data)

    report = world.splitter.split_upload(_upload(manifest_key(PERIOD)))

    assert report is not None and report.status == "pending"
    deliver_all(world)
    assert world.cloudzero.month_total(PERIOD) == credit_total(THIRDS[0]) + credit_total(THIRDS[2])


def test_a_rejected_export_uploaded_again_after_a_setting_is_fixed_is_read_again_and_pushed() -> None:
    euro_part = gzip.compress(gzip.decompress(FILES[part_key(PERIOD, 2)]).replace(b",USD,", b",EUR,"), mtime=0)
    files = {**FILES, part_key(PERIOD, 2): euro_part}
    world = World()  # USD only
    for key, data in files.items():
        world.objects.put(BUCKET, key, data)
        report = world.splitter.split_upload(_upload(key))
    assert report is not None and report.status == "rejected" and "currency EUR" in (report.error or "")

    # The operator adds EUR (a redeploy), then `credits-reprocess --key <manifest>`: a new event for it.
    world.splitter.config = replace(world.splitter.config, currencies=frozenset({"USD", "EUR"}))
    again = world.splitter.split_upload(_upload(manifest_key(PERIOD), "2026-02-10T09:00:00.000Z"))

    assert again is not None and again.status == "pending"
    assert [message.month for message in world.queue.messages] == [PERIOD]
    deliver_all(world)
    assert world.cloudzero.month_total(PERIOD) == TOTAL


def test_an_earlier_export_delivered_again_after_a_wrong_one_is_pushed_again_and_is_the_truth() -> None:
    # The period's export A, then a wrong export B in its place, then A's files restored (the parts, then the
    # manifest, as AWS writes them): A's bytes were accepted once already, but CloudZero holds B's month.
    world = World()
    first = delivered_and_pushed(world)
    wrong_rows = month_rows(seed=9)
    world.objects.put(BUCKET, part_key(PERIOD, 1), cur2_part(PERIOD, wrong_rows))
    world.objects.objects.pop((BUCKET, part_key(PERIOD, 2)))
    world.objects.objects.pop((BUCKET, part_key(PERIOD, 3)))
    world.upload(
        manifest_key(PERIOD), manifest(BUCKET, PERIOD, parts=1, execution="exec-2"), "2026-02-05T00:00:00.000Z"
    )
    deliver_all(world)
    assert world.cloudzero.month_total(PERIOD) == credit_total(wrong_rows)
    seen = len(world.queue.sent)

    for number in (1, 2, 3):
        world.objects.put(BUCKET, part_key(PERIOD, number), FILES[part_key(PERIOD, number)])
        assert world.splitter.split_upload(_upload(part_key(PERIOD, number), "2026-02-10T00:00:00.000Z")) is None
    again = world.upload(manifest_key(PERIOD), FILES[manifest_key(PERIOD)], "2026-02-10T00:01:00.000Z")

    assert first is not None and again.file.sha256 == first.file.sha256
    assert again.months[PERIOD].status == "pending"
    assert world.records.months[PERIOD]["sha256"] == first.file.sha256  # the month's truth again
    assert len(world.queue.sent) == seen + 1
    for sent in world.queue.sent[seen:]:
        world.deliver(sent.body, delivery_id=f"d-{sent.deduplication_id}")
    assert world.cloudzero.month_total(PERIOD) == TOTAL  # total in == total out

    # A late event of the restore changes nothing more.
    world.splitter.split_upload(_upload(part_key(PERIOD, 2), "2026-02-10T00:02:00.000Z"))
    assert len(world.queue.sent) == seen + 1
    assert world.cloudzero.month_total(PERIOD) == TOTAL


def test_a_new_part_landing_beside_an_old_manifest_does_not_push_the_old_export_over_a_newer_file() -> None:
    world = World()
    delivered_and_pushed(world)
    # An operator's correction for the month, uploaded after the export: the month's truth, pushed.
    world.upload("incoming/credits-2026-01.csv", b"073933415963,$100.00\n", event_time="2026-02-05T00:00:00.000Z")
    for sent in world.queue.sent[1:]:
        world.deliver(sent.body, delivery_id=f"d-{sent.deduplication_id}")
    assert world.cloudzero.month_total(PERIOD) == Decimal("-100.00")
    sent_before = len(world.queue.sent)

    # The export's next delivery begins: a new part lands beside the old delivery's manifest, not yet rewritten.
    world.objects.put(BUCKET, part_key(PERIOD, 4), cur2_part(PERIOD, month_rows(seed=99)))
    assert world.splitter.split_upload(_upload(part_key(PERIOD, 4), "2026-02-06T00:00:00.000Z")) is not None

    assert len(world.queue.sent) == sent_before  # nothing queued: the correction stays the truth
    assert world.cloudzero.month_total(PERIOD) == Decimal("-100.00")


def test_the_export_delivered_again_while_the_pusher_judges_its_first_message_superseded_is_pushed() -> None:
    # The export is queued; a wrong file for its month lands after it. The pusher reads the month's pointer (the
    # wrong file) for the export's message, and the export's files are restored (its manifest written again)
    # before the pusher gives its verdict: the instant that once left the month with nothing pushed.
    world = World()
    for key, data in FILES.items():
        world.objects.put(BUCKET, key, data)
    first = world.splitter.split_upload(_upload(manifest_key(PERIOD)))
    world.upload("incoming/credits-2026-01.csv", b"073933415963,$100.00\n", event_time="2026-02-05T00:00:00.000Z")
    export_message, wrong_message = world.queue.sent[0].body, world.queue.sent[1].body

    def export_restored() -> None:
        world.upload(manifest_key(PERIOD), FILES[manifest_key(PERIOD)], "2026-02-10T00:00:00.000Z")

    world.pusher.records = PointerMovesAfterItIsRead(world.records, export_restored)
    assert world.deliver(export_message, delivery_id="export-1").status == "superseded"
    world.pusher.records = world.records
    assert world.deliver(wrong_message, delivery_id="wrong-1").status == "superseded"
    for sent in world.queue.sent[2:]:  # the push the restore queued
        world.deliver(sent.body, delivery_id=f"d-{sent.deduplication_id}")

    assert first is not None and world.records.months[PERIOD]["sha256"] == first.file.sha256
    assert world.cloudzero.month_total(PERIOD) == TOTAL  # total in == total out
    assert world.report(first.file.sha256).months[PERIOD].status == "pushed"
