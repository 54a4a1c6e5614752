"""A billing period exported as three part files and a manifest, through the whole local pipeline."""

from local_stack.stack import LocalPipeline
from tests.export_builders import credit_total, cur2_part, manifest, manifest_key, month_rows, part_key

from .conftest import held_total, only_report

PERIOD = "2026-01"


def test_a_three_part_export_lands_once_with_every_parts_credits(pipeline: LocalPipeline) -> None:
    rows = month_rows(seed=11, accounts=40, rows=600)
    thirds = [rows[0::3], rows[1::3], rows[2::3]]
    # The manifest first (S3 events arrive in no order), then the parts.
    pipeline.put(manifest_key(PERIOD), manifest(pipeline.bucket, PERIOD, parts=3))
    for number, piece in enumerate(thirds, start=1):
        pipeline.put(part_key(PERIOD, number), cur2_part(PERIOD, piece))
    pipeline.runner.run_until_idle()

    assert pipeline.emulator is not None
    drops = pipeline.emulator.drops(pipeline.connection_id)
    assert [drop.operation for drop in drops] == ["replace_drop"]  # once, not once per part
    assert held_total(pipeline, PERIOD) == credit_total(rows)
    run = only_report(pipeline)
    assert run["status"] == "pushed"
    assert run["file"]["key"] == manifest_key(PERIOD)
    assert [part["key"] for part in run["parts"]] == [part_key(PERIOD, n) for n in (1, 2, 3)]
    assert run["months"][PERIOD]["status"] == "pushed"
