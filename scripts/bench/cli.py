"""`make bench`: generate the inputs, measure every case in fresh processes, print the table, judge.

Exit status: 0 every target met; 1 a target missed; 2 a case broke (it failed, or gave a wrong
answer, so its numbers mean nothing). A quick run (`--quick`) is the smoke check: 2 means the
benchmark or the pipeline is broken, 1 only that today's code is slower than the targets.
"""

import argparse
import multiprocessing
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench.cases import (
    COLD_START_SECONDS,
    FLOOR_NAMES,
    FULL,
    NOT_AT_COLD_START,
    PACKAGE_MB,
    QUICK,
    STANDARD,
    PathCase,
    Sizes,
    Target,
    path_cases,
    pusher_problems,
    splitter_problems,
)
from bench.measure import REPO, ChildFailed, ChildRun, cold_start, run_child, sdk_alone
from bench.report import MiB, Row, print_table, write_json
from bench.runtime_env import (
    FUNCTIONS,
    LAMBDA_PLATFORMS,
    Deployment,
    RuntimeEnvironment,
    RuntimeUnavailable,
    runtime_environment,
)
from bench.services import Services, StagingFailed, running_services
from testdata.expected import Expected

STARTED = time.perf_counter()
CHILD_TIMEOUT_SECONDS = 3600


def log(message: str) -> None:
    print(f"[{time.perf_counter() - STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


class Bench:
    def __init__(self, services: Services, scratch: Path, memray_dir: Path | None) -> None:
        self.services = services
        self.env = services.environment()
        self.scratch = scratch
        self.memray_dir = memray_dir
        self.stacks = 0

    def child(self, kind: str, spec: dict[str, Any], env: dict[str, str] | None = None) -> ChildRun:
        return run_child(kind, spec, env or self.env, CHILD_TIMEOUT_SECONDS)

    def stage(self, file: Path | None = None, key: str = "", split: bool = False) -> tuple[Path, dict[str, Any]]:
        """A fresh stack (and the file uploaded to it): where the run's stage is saved, and the functions."""
        self.stacks += 1
        name = f"bench-{self.stacks}"
        path = self.scratch / f"{name}.json"
        spec = {
            "stack_name": name,
            "file": str(file or ""),
            "key": key,
            "split": split,
            "stage_path": str(path),
        }
        return path, self.services.stage(spec)["functions"]

    def path_case(self, case: PathCase, expected: Expected | Exception) -> list[Row]:
        row = Row(
            case.name, case.size, time_target=_time_target(case.target), memory_target=_memory_target(case.target)
        )
        if isinstance(expected, Exception):
            row.verdict, row.problems = "ERROR", [f"input not generated: {expected}"]
            return [row]
        file = self.scratch / case.input.file_name
        rows = [row]
        if case.floor:
            log(f"{case.name} {case.size}: floor ({FLOOR_NAMES[case.floor]})")
            rows.append(self._floor(case, file))
            row.floor_seconds, row.floor_cpu_seconds = rows[-1].wall_seconds, rows[-1].cpu_seconds
        try:
            log(f"{case.name} {case.size}: staging a fresh stack and the upload")
            stage_path, functions = self.stage(file, case.input.key, split=case.function == "pusher")
            log(f"{case.name} {case.size}: the {case.function}'s whole path")
            run = self.child(case.function, {"stage_path": str(stage_path)})
        except (ChildFailed, StagingFailed) as error:
            row.verdict, row.problems = "ERROR", [str(error)]
            return rows
        seconds = run.result["seconds"]
        row.wall_seconds, row.cpu_seconds = seconds["wall"], seconds["cpu"]
        row.peak_mib = run.max_rss_bytes / MiB
        row.memory_size_mib = functions[case.function]["memory_mb"]
        check = splitter_problems if case.function == "splitter" else pusher_problems
        wrong = check(expected, run.result)
        if wrong:
            row.verdict, row.problems = "ERROR", [f"wrong answer: {problem}" for problem in wrong]
        else:
            _judge(row, case.target)
        row.notes.append(_what_happened(case, run.result))
        if case.function == "splitter":
            row.notes.append(self._fixed_costs(case, stage_path, run.result, row.floor_seconds))
        if self.memray_dir:
            row.memray_peak_mib = self._memray(case, file)
        return rows

    def _fixed_costs(
        self, case: PathCase, stage_path: Path, result: dict[str, Any], floor_seconds: float | None
    ) -> str:
        """What of the splitter's path a floor reading a local file never pays: its AWS calls, and the download
        (measured alone after the path, so that it warms nothing for it)."""
        calls = result.get("aws_calls", {})
        counted = ", ".join(f"{service} {count}" for service, count in sorted(calls.items()))
        told = f"{sum(calls.values())} AWS calls to moto ({counted})"
        log(f"{case.name} {case.size}: the download alone")
        try:
            transfer = self.child("transfer", {"stage_path": str(stage_path)}).result
        except ChildFailed as error:
            return f"{told}; the download alone not measured: {error}"
        seconds = transfer["seconds"]["wall"]
        ratio = f" ({seconds / floor_seconds:.2f}x the floor)" if floor_seconds else ""
        return (
            f"{told}; of them, the download of the {transfer['bytes'] / MiB:.1f} MiB file alone (S3 GET, SHA-256, "
            f"a spooled file) takes {seconds:.3f} s{ratio}"
        )

    def _floor(self, case: PathCase, file: Path) -> Row:
        row = Row(f"  floor: {FLOOR_NAMES[case.floor or '']}", case.size)
        try:
            run = self.child(f"floor-{case.floor}", {"file": str(file)})
        except ChildFailed as error:
            row.verdict, row.problems = "ERROR", [str(error)]
            return row
        row.wall_seconds, row.cpu_seconds = run.result["seconds"]["wall"], run.result["seconds"]["cpu"]
        row.peak_mib = run.max_rss_bytes / MiB
        row.notes.append(
            f"{run.result['rows']:,} rows" + (f", {run.result['groups']:,} groups" if "groups" in run.result else "")
        )
        return row

    def _memray(self, case: PathCase, file: Path) -> float | None:
        """The same path once more under memray's tracker, for a capture of where the memory went."""
        assert self.memray_dir is not None
        capture = self.memray_dir / f"{case.function}-{case.name.split()[-1]}-{case.size.split()[0]}.bin".lower()
        capture.unlink(missing_ok=True)
        log(f"{case.name} {case.size}: again under memray -> {capture}")
        try:
            stage_path, _ = self.stage(file, case.input.key, split=case.function == "pusher")
            # pyarrow's own allocator reserves large arenas that memray would count whole: use malloc here.
            env = {**self.env, "ARROW_DEFAULT_MEMORY_POOL": "system"}
            run = self.child(case.function, {"stage_path": str(stage_path), "memray": str(capture)}, env)
        except (ChildFailed, StagingFailed) as error:
            log(f"memray run failed: {error}")
            return None
        return float(run.result["memray_peak_bytes"]) / MiB

    def cold_starts(self, runs: int) -> list[Row]:
        """Each handler's cold start and package, in the runtime-only environment (the dev venv when offline)."""
        log("the runtime-only environment: the requirements files and boto3, installed once (.bench-cache/)")
        runtime: RuntimeEnvironment | None = None
        unavailable = caveat = ""
        try:
            runtime = runtime_environment()
        except RuntimeUnavailable as error:
            unavailable = f"the runtime-only environment is unavailable ({error})"
            caveat = (
                f"{unavailable}: measured in the dev venv, which holds packages Lambda would not have (moto, "
                "the SAM CLI, awscrt that botocore loads when present)"
            )
            log(caveat)
        log(f"cold start of each handler: python -X importtime, best of {runs}")
        try:
            _, functions = self.stage()
        except StagingFailed as error:
            return [Row("cold start", "", verdict="ERROR", problems=[str(error)])]
        deployed = {name: runtime.deploy(name, self.scratch) for name in FUNCTIONS} if runtime else {}
        rows = [
            self._cold_start(name, functions[name]["environment"], runs, deployed.get(name), caveat)
            for name in FUNCTIONS
        ]
        return rows + [_package(name, runtime, deployed.get(name), unavailable) for name in FUNCTIONS]

    def _cold_start(
        self, name: str, environment: dict[str, str], runs: int, deployed: Deployment | None, caveat: str
    ) -> Row:
        row = Row(
            f"cold start {name}",
            "import app",
            time_target=f"<= {COLD_START_SECONDS:.3f} s, no {', no '.join(NOT_AT_COLD_START)}",
        )
        try:
            env = {**self.env, **environment}
            if deployed:
                measured = cold_start(deployed.handler_dir, env, runs, deployed.python_path)
            else:
                measured = cold_start(REPO / "functions" / name, env, runs)
        except ChildFailed as error:
            row.verdict, row.problems = "ERROR", [str(error)]
            return row
        row.wall_seconds = measured.seconds
        missed = []
        if measured.seconds > COLD_START_SECONDS:
            missed.append(f"import {measured.seconds * 1000:.0f} ms, target <= {COLD_START_SECONDS * 1000:.0f} ms")
        missed += [
            f"the handler imports {package} at cold start (only a file's reading needs it)"
            for package in NOT_AT_COLD_START
            if measured.imported(package)
        ]
        row.verdict, row.problems = ("MISS", missed) if missed else ("ok", [])
        heaviest = ", ".join(f"{package} {seconds * 1000:.0f} ms" for package, seconds in measured.heaviest)
        row.notes.append(
            f"{measured.seconds * 1000:.0f} ms to import app, of which {measured.setup_seconds * 1000:.0f} ms its own "
            f"setup (settings, clients, the service built); the whole process {measured.process_seconds:.2f} s; "
            f"heaviest packages: {heaviest}"
        )
        row.notes += [caveat] if caveat else []
        row.notes.append(self._sdk_alone(name, env, runs, deployed))
        return row

    def _sdk_alone(self, name: str, env: dict[str, str], runs: int, deployed: Deployment | None) -> str:
        handler_dir = deployed.handler_dir if deployed else REPO / "functions" / name
        try:
            alone = sdk_alone(handler_dir, env, runs, deployed.python_path if deployed else None, self.scratch)
        except ChildFailed as error:
            return f"the SDK alone not measured: {error}"
        return (
            f"the SDK alone (botocore imported, then the handler's {', '.join(alone.services)} clients made) "
            f"takes {alone.seconds * 1000:.0f} ms of it, in the same environment"
        )


def _package(name: str, runtime: RuntimeEnvironment | None, deployed: Deployment | None, unavailable: str) -> Row:
    row = Row(f"package {name}", "unzipped", time_target=f"<= {PACKAGE_MB[name]} MB")
    if runtime is None or deployed is None:
        row.notes.append(f"not measured: {unavailable}")
        return row
    row.package_mb = runtime.package_bytes(name, deployed) / 1e6
    if row.package_mb > PACKAGE_MB[name]:
        row.verdict, row.problems = "MISS", [f"{row.package_mb:.1f} MB unzipped, target <= {PACKAGE_MB[name]} MB"]
    else:
        row.verdict = "ok"
    row.notes.append(
        f"as `make build` ships it (bytecode included) for arm64 ({LAMBDA_PLATFORMS[-1]} wheels): functions/{name} "
        "and its requirements, the layer (shared/ and its requirements); boto3 is the runtime's"
    )
    return row


def _time_target(target: Target) -> str:
    return f"<= {target.floor_ratio:g}x floor" if target.floor_ratio is not None else ""


def _memory_target(target: Target) -> str:
    return f"<= {target.peak_mib:g} MiB" if target.peak_mib is not None else ""


def _judge(row: Row, target: Target) -> None:
    missed = []
    if target.floor_ratio is not None:
        if row.ratio is None:
            row.verdict, row.problems = "ERROR", ["no floor to compare with"]
            return
        if row.ratio > target.floor_ratio:
            missed.append(
                f"wall {row.wall_seconds:.2f} s is {row.ratio:.1f}x the floor's {row.floor_seconds:.3f} s, "
                f"target <= {target.floor_ratio:g}x"
            )
    peak = row.peak_mib or 0.0
    if target.peak_mib is not None and peak > target.peak_mib:
        missed.append(f"peak {peak:.0f} MiB, target <= {target.peak_mib:g} MiB")
    if row.memory_size_mib is not None and peak > row.memory_size_mib:
        missed.append(f"peak {peak:.0f} MiB is above MemorySize {row.memory_size_mib}: Lambda would stop it")
    row.verdict, row.problems = ("MISS", missed) if missed else ("ok", [])


def _what_happened(case: PathCase, result: dict[str, Any]) -> str:
    if case.function == "splitter":
        months = result["months"]
        batches = sum(month["batch_bytes"] for month in months.values())
        accounts = sum(month["accounts"] for month in months.values())
        chunks = sum(month.get("chunks", 0) for month in months.values())
        return (
            f"{len(months)} month(s) queued, {accounts:,} accounts, "
            f"batches {batches / MiB:.1f} MiB in S3 ({chunks} bodies and the manifests)"
        )
    return (
        f"{result['month']} pushed in {result['chunks']} billing drop(s), CloudZero holds {result['rows_held']:,} rows"
    )


def _chosen(name: str, only: str | None) -> bool:
    return only is None or only.lower() in name.lower()


def generate(cases: list[PathCase], scratch: Path) -> list[Expected | Exception]:
    """Every input, written two at a time (in other processes: this one stays small), the longest first."""
    log(f"writing {len(cases)} inputs: {', '.join(f'{case.name} {case.size}' for case in cases)}")
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        longest_first = sorted(cases, key=lambda case: -case.input.weight)
        futures = {id(case): pool.submit(case.input.build, scratch / case.input.file_name) for case in longest_first}
        outcomes: list[Expected | Exception] = []
        for case in cases:
            try:
                outcomes.append(futures[id(case)].result())
            except Exception as error:
                outcomes.append(error)
    log("inputs written")
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.split("\n\n")[0] if __doc__ else None)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small sizes: a smoke run in seconds")
    size.add_argument(
        "--full", action="store_true", help="also 10M-row CURs, FOCUS and CUR 2.0 Parquet (many minutes more)"
    )
    parser.add_argument(
        "--cold-start", action="store_true", help="only the cold starts and package sizes (seconds, once installed)"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the rows as JSON")
    parser.add_argument("--memray", type=Path, metavar="DIR", help="also run each path under memray, captures in DIR")
    parser.add_argument(
        "--only",
        metavar="SUBSTRING",
        help="run only the cases whose name and size contain SUBSTRING (e.g. 'pusher', '1M accounts'); "
        "cold starts are measured when 'cold start' matches",
    )
    args = parser.parse_args(argv)
    sizes: Sizes = QUICK if args.quick else FULL if args.full else STANDARD
    if args.memray:
        args.memray.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="credits-bench-") as directory:
        scratch = Path(directory)
        chosen = [case for case in path_cases(sizes) if _chosen(f"{case.name} {case.size}", args.only)]
        cases = [] if args.cold_start else chosen
        expected = generate(cases, scratch)
        with running_services() as services:
            bench = Bench(services, scratch, args.memray)
            rows = [row for case, wanted in zip(cases, expected, strict=True) for row in bench.path_case(case, wanted)]
            if _chosen("cold start", args.only) or _chosen("package", args.only):
                rows += bench.cold_starts(sizes.cold_start_runs)
    log("done")
    print_table(rows, sizes.name, memray=bool(args.memray))
    if args.json:
        write_json(args.json, rows, sizes.name)
    if any(row.verdict == "ERROR" for row in rows):
        return 2
    return 1 if any(row.verdict == "MISS" for row in rows) else 0
