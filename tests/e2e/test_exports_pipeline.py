"""A billing period exported as three part files and a manifest, through the whole local pipeline."""

import gzip
import time
from decimal import Decimal

import pytest

from local_stack.stack import LocalPipeline
from operator_commands import replay, reprocess
from tests.export_builders import credit_total, cur2_part, manifest, manifest_key, month_rows, part_key

from .conftest import held_total, only_report, report, tags

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


def test_an_export_is_made_the_months_truth_again_by_replaying_its_manifest(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = month_rows(seed=12, accounts=20, rows=200)
    pipeline.put(manifest_key(PERIOD), manifest(pipeline.bucket, PERIOD, parts=2))
    for number, piece in enumerate([rows[0::2], rows[1::2]], start=1):
        pipeline.put(part_key(PERIOD, number), cur2_part(PERIOD, piece))
    pipeline.runner.run_until_idle()
    pipeline.put("incoming/credits-2026-01.csv", b"000000000001,$999.00\n")  # a wrong file becomes the truth
    pipeline.runner.run_until_idle()
    assert held_total(pipeline, PERIOD) == Decimal("-999.00")

    stack = ["--stack-name", pipeline.stack.name, "--month", PERIOD, "--file", manifest_key(PERIOD)]
    assert replay.main(stack) == 0, capsys.readouterr().err
    pipeline.runner.run_until_idle()

    assert held_total(pipeline, PERIOD) == credit_total(rows)


def test_a_rejected_export_reprocessed_after_a_newer_file_landed_does_not_replace_it(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = month_rows(seed=13, accounts=20, rows=200)
    euros = gzip.compress(gzip.decompress(cur2_part(PERIOD, rows[1::2])).replace(b",USD,", b",EUR,"), mtime=0)
    pipeline.put(manifest_key(PERIOD), manifest(pipeline.bucket, PERIOD, parts=2))
    pipeline.put(part_key(PERIOD, 1), cur2_part(PERIOD, rows[0::2]))
    pipeline.put(part_key(PERIOD, 2), euros)
    pipeline.runner.run_until_idle()  # rejected: EUR is not a configured currency
    time.sleep(1.1)  # S3 times are to the second
    pipeline.put("incoming/credits-2026-01.csv", b"000000000001,$12.00\n")  # a newer file for the month
    pipeline.runner.run_until_idle()
    assert held_total(pipeline, PERIOD) == Decimal("-12.00")

    pipeline.runner.update_environment("splitter", {"CURRENCIES": "USD,EUR"})
    assert reprocess.main(["--stack-name", pipeline.stack.name, "--key", manifest_key(PERIOD)]) == 0
    capsys.readouterr()
    pipeline.runner.run_until_idle()

    assert held_total(pipeline, PERIOD) == Decimal("-12.00")  # the later upload stays the month's truth
    export = report(pipeline, tags(pipeline, manifest_key(PERIOD))["credits-pipeline-sha256"])
    assert export["months"][PERIOD]["status"] == "superseded"


def test_parts_rewritten_under_a_manifest_already_read_wait_then_land_when_the_manifest_is_reprocessed(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = month_rows(seed=13, accounts=20, rows=200)
    for number, piece in enumerate([rows[0::2], rows[1::2]], start=1):
        pipeline.put(part_key(PERIOD, number), cur2_part(PERIOD, piece))
    pipeline.put(manifest_key(PERIOD), manifest(pipeline.bucket, PERIOD, parts=2))
    pipeline.runner.run_until_idle()
    assert held_total(pipeline, PERIOD) == credit_total(rows)

    fixed = month_rows(seed=14, accounts=20, rows=100)
    pipeline.put(part_key(PERIOD, 1), cur2_part(PERIOD, fixed))  # a part rewritten in place, no new manifest
    pipeline.runner.run_until_idle()
    assert held_total(pipeline, PERIOD) == credit_total(rows)  # never a month of old and new parts

    # What the watchdog's alert says to do: read the manifest again, with the parts as they are.
    key = ["--stack-name", pipeline.stack.name, "--key", manifest_key(PERIOD), "--force"]
    assert reprocess.main(key) == 0, capsys.readouterr().err
    pipeline.runner.run_until_idle()

    assert held_total(pipeline, PERIOD) == credit_total(fixed + rows[1::2])  # not superseded by its own reading


def test_an_earlier_export_restored_after_a_wrong_export_lands_again(pipeline: LocalPipeline) -> None:
    rows = month_rows(seed=15, accounts=20, rows=200)
    halves = {part_key(PERIOD, n): cur2_part(PERIOD, piece) for n, piece in ((1, rows[0::2]), (2, rows[1::2]))}
    for key, data in halves.items():
        pipeline.put(key, data)
    pipeline.put(manifest_key(PERIOD), manifest(pipeline.bucket, PERIOD, parts=2))
    pipeline.runner.run_until_idle()
    first = tags(pipeline, manifest_key(PERIOD))["credits-pipeline-sha256"]
    time.sleep(1.1)  # S3 times are to the second: each delivery is newer than the one before
    wrong = month_rows(seed=16, accounts=5, rows=20)
    pipeline.put(part_key(PERIOD, 1), cur2_part(PERIOD, wrong))  # the export run again, wrongly: one part
    pipeline.put(manifest_key(PERIOD), manifest(pipeline.bucket, PERIOD, parts=1, execution="exec-2"))
    pipeline.runner.run_until_idle()
    assert held_total(pipeline, PERIOD) == credit_total(wrong)
    time.sleep(1.1)

    # The operator restores the first delivery's files, the manifest last, as AWS writes them.
    for key, data in halves.items():
        pipeline.put(key, data)
    pipeline.put(manifest_key(PERIOD), manifest(pipeline.bucket, PERIOD, parts=2))
    pipeline.runner.run_until_idle()

    assert held_total(pipeline, PERIOD) == credit_total(rows)  # total in == total out
    assert tags(pipeline, manifest_key(PERIOD)) == {
        "credits-pipeline-status": "duplicate",
        "credits-pipeline-sha256": first,
    }
    assert report(pipeline, first)["months"][PERIOD]["status"] == "pushed"
