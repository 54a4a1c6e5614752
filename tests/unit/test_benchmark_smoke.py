"""scripts/benchmark.py --quick runs and names every measurement.

A smoke test that the benchmark works, not a timed test: speed and memory targets are measured by
the benchmark script itself (`make bench`), never asserted here.
"""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MEASUREMENTS = (
    "headerless",
    "headerless memory scaling",
    "cur-legacy-csv",
    "cur2-parquet",
    "s3-download",
    "drop-bodies",
    "import splitter",
    "import pusher",
    "pyarrow-lazy",
)


def test_quick_benchmark_runs_and_names_every_measurement(tmp_path):
    results = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "benchmark.py"), "--quick", "--json", str(results)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,  # generous: the quick run takes seconds; this only stops a hang
        check=False,
    )
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    table = done.stdout.split("\n\n")[0]
    for name in MEASUREMENTS:
        assert f"\n{name}  " in table, f"{name!r} missing from the table:\n{table}"
    written = {result["name"] for result in json.loads(results.read_text())["results"]}
    assert written == set(MEASUREMENTS)
