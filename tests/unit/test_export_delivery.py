"""A multi-file export as the splitter and the watchdog both judge it: its parts in the bucket, and a
delivery refreshed in place (parts rewritten under a manifest already read) told from a new one."""

import pytest

from credits_pipeline.domain.exports import ManifestInvalid
from credits_pipeline.services.export_delivery import export_delivery
from tests.export_builders import cur2_part, manifest, month_rows, part_key
from tests.fakes import BUCKET, FakeObjectStore

PERIOD = "2026-01"
ROWS = month_rows(seed=3)


def _bucket_with(parts: list[int]) -> FakeObjectStore:
    objects = FakeObjectStore()
    for number in parts:
        objects.put(BUCKET, part_key(PERIOD, number), cur2_part(PERIOD, ROWS[number::3]))
    return objects


def test_the_parts_not_in_the_bucket_are_named_in_the_manifests_order() -> None:
    delivery = export_delivery(_bucket_with([2]), manifest(BUCKET, PERIOD, parts=3), BUCKET)

    assert delivery.missing == [f"s3://{BUCKET}/{part_key(PERIOD, 1)}", f"s3://{BUCKET}/{part_key(PERIOD, 3)}"]
    assert list(delivery.stored) == [(BUCKET, part_key(PERIOD, 2))]


def test_a_part_rewritten_under_the_manifest_read_before_waits_for_the_new_manifest() -> None:
    objects = _bucket_with([1, 2])
    first = export_delivery(objects, manifest(BUCKET, PERIOD, parts=2), BUCKET)
    read = (first.manifest_sha256, first.identity)  # what the splitter recorded when it read the delivery

    objects.put(BUCKET, part_key(PERIOD, 2), cur2_part(PERIOD, ROWS[:5]))  # the export rewrites a part in place
    refreshing = export_delivery(objects, manifest(BUCKET, PERIOD, parts=2), BUCKET)
    # Its new manifest (another execution) is a new delivery, read as it is.
    renewed = export_delivery(objects, manifest(BUCKET, PERIOD, parts=2, execution="exec-2"), BUCKET)

    assert refreshing.missing == [] and refreshing.identity != first.identity
    assert refreshing.refreshed_in_place(read) is True
    assert first.refreshed_in_place(read) is False  # the same delivery, read again (a repeated event)
    assert first.refreshed_in_place(None) is False  # never read before
    assert renewed.refreshed_in_place(read) is False


def test_an_unusable_manifest_is_refused_before_any_part_is_looked_up() -> None:
    objects = _bucket_with([1])
    objects.denied_buckets.add(BUCKET)  # any lookup would raise

    with pytest.raises(ManifestInvalid):
        export_delivery(objects, b'{"dataFiles": "not a list"}', BUCKET)
