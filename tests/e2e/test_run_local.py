"""`make local` (scripts/run_local.py): the whole pipeline once, ending in one line a person reads."""

import json
from pathlib import Path

import pytest

import run_local

from .test_pipeline import JANUARY, JANUARY_TOTAL

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
