"""`make local` (scripts/run_local.py): the whole pipeline once, ending in one line a person reads."""

import json
from pathlib import Path

import pytest

import run_local
from credits_pipeline.domain.report import RunReport
from local_stack.session import shown_state, verdict
from local_stack.stack import LocalPipeline
from operator_commands import replay, verify

from .conftest import report
from .test_operator_commands import overwrite_month_in_cloudzero, stack_args
from .test_pipeline import JANUARY, JANUARY_TOTAL, february, sha

SAMPLE = Path(run_local.SAMPLE)


def test_make_local_ends_with_a_one_line_verdict_and_saves_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert SAMPLE.read_bytes().replace(b"\r\n", b"\n") == JANUARY.replace(b"\r\n", b"\n")  # totals worked out by hand
    assert run_local.main(["--local-dir", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    assert lines[-1] == (
        f"pushed: landed 2026-01 (9 accounts, {JANUARY_TOTAL}, verified); "
        "skipped 4 rows (zero 2, duplicate 1, invalid 1); failed: none"
    )
    assert not [line for line in lines if line.startswith("{")]  # the functions' JSON lines are in the log
    assert err == ""
    [saved] = (tmp_path / "reports").glob("*.json")
    assert f"report: {saved}" in lines
    assert json.loads(saved.read_text())["months"]["2026-01"]["status"] == "pushed"
    [log] = (tmp_path / "logs").glob("run-*.log")
    assert '"message":"month pushed to CloudZero"' in log.read_text()


def test_a_remote_cloudzero_needs_a_test_key_or_live(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_local.main(["--cloudzero-url", "https://api.cloudzero.com", "--api-key", "k"]) == 2
    err = capsys.readouterr().err
    assert "https://api.cloudzero.com is not on this machine" in err and "--test-key" in err and "--live" in err


def test_a_files_line_says_a_duplicate_upload_sent_nothing_and_names_why_a_month_failed(
    pipeline: LocalPipeline,
) -> None:
    assert pipeline.emulator is not None
    pipeline.emulator.inject_fault(status=400, count=1, message="row 0: something CloudZero dislikes")
    key = pipeline.put("incoming/credits-2026-02.csv", february())
    pipeline.runner.run_until_idle()
    failed = report_of(pipeline, key, february())
    assert verdict(failed).startswith("failed: landed nothing; skipped 0 rows; failed: 2026-02 failed (")
    assert "row 0: something CloudZero dislikes" in verdict(failed)

    january = pipeline.put("incoming/credits-2026-01.csv", JANUARY)
    pipeline.runner.run_until_idle()
    pipeline.put("incoming/credits-2026-01.csv", JANUARY)  # the same bytes again
    pipeline.runner.run_until_idle()

    assert verdict(report_of(pipeline, january, JANUARY)) == (
        f"duplicate upload, nothing sent again; pushed: landed 2026-01 (9 accounts, {JANUARY_TOTAL}, verified); "
        "skipped 4 rows (zero 2, duplicate 1, invalid 1); failed: none"
    )


def report_of(pipeline: LocalPipeline, key: str, data: bytes) -> RunReport:
    return RunReport.model_validate(report(pipeline, sha(data, key.removeprefix("incoming/"))))


def test_local_up_prints_a_files_line_again_for_a_new_push_or_finding_not_for_a_check_that_changes_nothing(
    pipeline: LocalPipeline,
) -> None:
    key = pipeline.put("incoming/credits-2026-02.csv", february())
    pipeline.runner.run_until_idle()
    first = report_of(pipeline, key, february())

    assert verify.main([*stack_args(pipeline), "--month", "2026-02"]) == 0
    checked = report_of(pipeline, key, february())
    assert checked.version > first.version  # the report changed: the check is recorded
    assert shown_state(checked) == shown_state(first)  # the line would read as a new push: not printed again

    assert replay.main([*stack_args(pipeline), "--month", "2026-02"]) == 0
    pipeline.runner.run_until_idle()
    replayed = report_of(pipeline, key, february())
    assert shown_state(replayed) != shown_state(checked)  # a push: printed

    overwrite_month_in_cloudzero(pipeline, "2026-02")
    assert verify.main([*stack_args(pipeline), "--month", "2026-02"]) == 1
    assert shown_state(report_of(pipeline, key, february())) != shown_state(replayed)  # now unverified: printed
