"""The table `make bench` prints (and the same rows as JSON)."""

import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

MiB = 2**20
Verdict = Literal["ok", "MISS", "ERROR", "-"]


@dataclass
class Row:
    case: str
    size: str
    wall_seconds: float | None = None
    cpu_seconds: float | None = None
    floor_seconds: float | None = None  # the floor's wall seconds, for a ratio target
    floor_cpu_seconds: float | None = None
    time_target: str = ""  # "<= 2x floor", "<= 0.200 s"; a package's "<= 120 MB"
    peak_mib: float | None = None  # peak resident memory of the process
    memory_target: str = ""  # "<= 300 MiB"
    memory_size_mib: int | None = None  # the function's MemorySize (template.yaml)
    package_mb: float | None = None  # a function's deployment unzipped, with its layer (10^6 bytes)
    memray_peak_mib: float | None = None  # with --memray: heap incl. native allocations and mapped arenas
    verdict: Verdict = "-"
    problems: list[str] = field(default_factory=list)  # each missed target, or what went wrong
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        if self.wall_seconds is None or not self.floor_seconds:
            return None
        return self.wall_seconds / self.floor_seconds

    @property
    def cpu_ratio(self) -> float | None:
        if self.cpu_seconds is None or not self.floor_cpu_seconds:
            return None
        return self.cpu_seconds / self.floor_cpu_seconds


def print_table(rows: list[Row], mode: str, memray: bool) -> None:
    headers = ["case", "size", "wall s", "CPU s", "floor s", "wall x floor", "CPU x floor", "target", "peak MiB"]
    headers += ["memory target", "MemorySize", "package MB", *(["memray MiB"] if memray else []), "result"]
    cells = [
        [
            row.case,
            row.size,
            _number(row.wall_seconds, 4),
            _number(row.cpu_seconds, 4),
            _number(row.floor_seconds, 4),
            _times(row.ratio),
            _times(row.cpu_ratio),
            row.time_target,
            _number(row.peak_mib, 0),
            row.memory_target,
            str(row.memory_size_mib or ""),
            _number(row.package_mb, 1),
            *([_number(row.memray_peak_mib, 0)] if memray else []),
            row.verdict,
        ]
        for row in rows
    ]
    widths = [max(len(line[index]) for line in [headers, *cells]) for index in range(len(headers))]
    numeric = {2, 3, 4, 5, 6, 8, 10, 11, *([12] if memray else [])}

    def line(values: list[str]) -> str:
        return "  ".join(
            value.rjust(widths[index]) if index in numeric else value.ljust(widths[index])
            for index, value in enumerate(values)
        ).rstrip()

    print(
        f"credits pipeline benchmark: {mode} sizes, Python {sys.version.split()[0]}. Seconds: the handler invocation "
        "(cold start: importing the handler module with only the runtime requirements); peak: the process's peak "
        "resident MiB; package: the function, its requirements and the layer, unzipped; targets judge wall time. "
        "CloudZero's per-month limit (1M rows, 70 MB) is lifted on the benchmark's stacks and emulator: a month "
        "of 1M accounts is ~185 MB of billing drops, which a real stream refuses (and the splitter rejects)."
    )
    print(line(headers))
    print(line(["-" * width for width in widths]))
    for values in cells:
        print(line(values))
    print()
    for row in rows:
        for text in [*row.problems, *row.notes]:
            print(f"- {row.case} {row.size}: {text}")
    missed = sum(row.verdict == "MISS" for row in rows)
    broken = sum(row.verdict == "ERROR" for row in rows)
    print()
    if broken:
        print(f"{broken} case(s) broke (see above): their numbers are missing or measure a wrong answer")
    print(f"{missed} case(s) missed a target" if missed else "every target met" if not broken else "")


def write_json(path: Path, rows: list[Row], mode: str) -> None:
    document = {
        "mode": mode,
        "python": sys.version.split()[0],
        "rows": [asdict(row) | {"ratio": row.ratio, "cpu_ratio": row.cpu_ratio} for row in rows],
    }
    path.write_text(json.dumps(document, indent=2) + "\n")


def _times(ratio: float | None) -> str:
    return "" if ratio is None else f"{ratio:,.2f}x"


def _number(value: float | None, places: int) -> str:
    return "" if value is None else f"{value:,.{places}f}"
