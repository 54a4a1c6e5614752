"""scripts/benchmark.py --quick runs every case to a right answer and names each in its table.

A smoke test that the benchmark works, not a timed test: speed and memory targets are judged by the
benchmark itself (`make bench`), never asserted here. Exit 1 (a target missed) is today's code being
slower than the targets; exit 2 would mean a case broke or gave a wrong answer.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CASES = (
    "splitter headerless",
    "splitter CUR CSV gzip",
    "splitter CUR 2.0 CSV gzip",
    "splitter FOCUS 1.2 CSV gzip",
    "splitter CUR 2.0 Parquet",
    "pusher one month",
    "cold start splitter",
    "cold start pusher",
    "cold start watchdog",
    "package splitter",
    "package pusher",
    "package watchdog",
)
FLOORS = ("floor: csv.reader loop", "floor: pyarrow filter+group-by")


def test_quick_benchmark_measures_every_case_with_a_right_answer(tmp_path):
    results = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "benchmark.py"), "--quick", "--json", str(results)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,  # generous: the quick run takes about a minute; this only stops a hang
        check=False,
    )
    assert done.returncode in (0, 1), f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    table = done.stdout.split("\n\n")[0]
    for name in (*CASES, *FLOORS):
        assert f"\n{name}  " in table or f"\n  {name}  " in table, f"{name!r} missing from the table:\n{table}"
    rows = json.loads(results.read_text())["rows"]
    assert {row["case"] for row in rows} == {*CASES, *(f"  {floor}" for floor in FLOORS)}
    assert [row for row in rows if row["verdict"] == "ERROR"] == []
    measured = [row for row in rows if not row["case"].startswith(("  floor", "cold start", "package"))]
    assert all(row["wall_seconds"] and row["peak_mib"] and row["memory_size_mib"] for row in measured), measured
    assert all(row["ratio"] for row in measured if row["case"].startswith("splitter")), measured
    # What the floors never pay is measured beside each miss: the splitter's AWS calls and download, and the SDK
    # alone at each cold start.
    splitters = [row for row in measured if row["case"].startswith("splitter")]
    assert all(
        any(" AWS calls to moto (" in note and "the download of the" in note for note in row["notes"])
        for row in splitters
    )
    # The splitter's own calls only: one SQS send a month it queued (the benchmark's read-back is not counted).
    for row in splitters:
        notes = " ".join(row["notes"])
        queued, sent = re.search(r"(\d+) month\(s\) queued", notes), re.search(r"sqs (\d+)", notes)
        assert queued and sent and queued[1] == sent[1], row["notes"]
    cold = [row for row in rows if row["case"].startswith("cold start")]
    assert all(any(note.startswith("the SDK alone (botocore imported") for note in row["notes"]) for row in cold), cold
