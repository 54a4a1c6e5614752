"""One measurement in a fresh interpreter: `python -m bench.child KIND SPEC.json RESULT.json`.

Fresh, so that no measurement's memory hides in another's and the process's peak resident memory
(read by the parent from the kernel's account of the exited child) is the function's own.

KIND: floor-csv, floor-parquet, splitter, pusher, transfer (the splitter's download alone).
With `"memray": PATH` in the spec, the whole child runs under memray's tracker and writes a capture
for `memray flamegraph PATH` (where the memory went; slower, so never the timed run).
"""

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

Spec = dict[str, Any]


def _floor_csv(spec: Spec) -> dict[str, Any]:
    from bench.floors import csv_floor  # noqa: PLC0415

    return csv_floor(Path(spec["file"]))


def _floor_parquet(spec: Spec) -> dict[str, Any]:
    from bench.floors import parquet_floor  # noqa: PLC0415

    return parquet_floor(Path(spec["file"]))


def _splitter(spec: Spec) -> dict[str, Any]:
    from bench.paths import splitter_path  # noqa: PLC0415
    from bench.scene import Stage  # noqa: PLC0415

    return splitter_path(Stage.load(Path(spec["stage_path"])))


def _transfer(spec: Spec) -> dict[str, Any]:
    from bench.paths import transfer_path  # noqa: PLC0415
    from bench.scene import Stage  # noqa: PLC0415

    return transfer_path(Stage.load(Path(spec["stage_path"])))


def _pusher(spec: Spec) -> dict[str, Any]:
    from bench.paths import pusher_path  # noqa: PLC0415
    from bench.scene import Stage  # noqa: PLC0415

    return pusher_path(Stage.load(Path(spec["stage_path"])))


KINDS: dict[str, Callable[[Spec], dict[str, Any]]] = {
    "floor-csv": _floor_csv,
    "floor-parquet": _floor_parquet,
    "splitter": _splitter,
    "pusher": _pusher,
    "transfer": _transfer,
}


def main(argv: list[str]) -> int:
    kind, spec_path, result_path = argv
    spec: Spec = json.loads(Path(spec_path).read_text())
    work = KINDS[kind]
    capture = spec.get("memray")
    if capture:
        import memray  # noqa: PLC0415

        with memray.Tracker(capture, file_format=memray.FileFormat.AGGREGATED_ALLOCATIONS):
            result = work(spec)
        result["memray_peak_bytes"] = memray.FileReader(capture).metadata.peak_memory
    else:
        result = work(spec)
    Path(result_path).write_text(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
