"""Runs a child and reads what the kernel accounted for it; reads `python -X importtime` for cold starts.

Peak memory is the child's peak resident set (`ru_maxrss` from `os.wait4`): what Lambda reports as
"Max Memory Used" and what MemorySize limits. Linux carries a parent's resident size into a child's
`ru_maxrss` across fork and exec, so the benchmark's own process stays small (about 20 MiB: it
imports neither boto3 nor pyarrow and never holds an input; inputs are written by other processes)
and every measured child is far above that (a bare handler process is about 90 MiB). A figure of
about 20 MiB (a floor's `csv.reader` loop) is that carried size, not the child's own.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


class ChildFailed(Exception):
    """A child exited with an error: the message ends with the last lines it wrote to stderr."""


@dataclass(frozen=True)
class ChildRun:
    result: dict[str, Any]  # what the child wrote
    max_rss_bytes: int
    wall_seconds: float  # the whole child, start-up included
    cpu_seconds: float


def run_child(kind: str, spec: Mapping[str, Any], env: Mapping[str, str], timeout: float) -> ChildRun:
    """`python -m bench.child KIND`, with its resource usage read from the kernel when it exits."""
    with tempfile.TemporaryDirectory(prefix="bench-child-") as scratch:
        spec_path, result_path, log_path = (Path(scratch) / name for name in ("spec.json", "result.json", "log"))
        spec_path.write_text(json.dumps(spec))
        command = [sys.executable, "-m", "bench.child", kind, str(spec_path), str(result_path)]
        started = time.perf_counter()
        with log_path.open("wb") as log:
            # The function's own logs (Powertools writes JSON lines to stdout) go to the log file too.
            process = subprocess.Popen(command, stdout=log, stderr=log, env=dict(env), cwd=REPO)
            killer = threading.Timer(timeout, process.kill)
            killer.start()
            try:
                _, status, usage = os.wait4(process.pid, 0)
            finally:
                killer.cancel()
            process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        if process.returncode != 0 or not result_path.exists():
            tail = log_path.read_text(errors="replace").strip().splitlines()[-6:]
            reason = "killed after the timeout" if process.returncode == -9 else f"exited {process.returncode}"
            raise ChildFailed(f"{kind} {reason}: " + " | ".join(tail))
        return ChildRun(
            result=json.loads(result_path.read_text()),
            max_rss_bytes=usage.ru_maxrss * 1024,  # KiB on Linux
            wall_seconds=wall,
            cpu_seconds=usage.ru_utime + usage.ru_stime,
        )


# `import time: self [us] | cumulative | imported package`, nesting shown by indentation
_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)\s*$")


@dataclass(frozen=True)
class ColdStart:
    seconds: float  # cumulative import of the handler module: its imports and the service it builds
    setup_seconds: float  # of which the handler module's own time: settings read, clients made, the service built
    process_seconds: float  # the whole `python -X importtime -c "import app"`, interpreter start-up included
    heaviest: list[tuple[str, float]] = field(default_factory=list)  # top-level packages, seconds
    modules: frozenset[str] = frozenset()  # every module imported

    def imported(self, package: str) -> bool:
        """Whether `package` (or a module in it) was imported."""
        return any(name == package or name.startswith(f"{package}.") for name in self.modules)


def cold_start(handler_dir: Path, env: Mapping[str, str], runs: int, python_path: str | None = None) -> ColdStart:
    """The best of `runs` fresh imports of `<handler_dir>/app.py` as module `app`, settings from `env`.

    With `python_path` (a runtime-only environment), the interpreter runs with `-S`: no site-packages,
    so nothing of the dev venv is importable, only the handler's folder and `python_path`, as on Lambda;
    and it writes no bytecode (Lambda's code folders are read-only), so each run compiles alike.
    Without it, the dev venv's interpreter imports whatever the venv holds.
    """
    best: ColdStart | None = None
    isolation = ["-S"] if python_path is not None else []
    read_only = {"PYTHONDONTWRITEBYTECODE": "1"} if python_path is not None else {}
    path = os.pathsep.join([str(handler_dir), env.get("PYTHONPATH", "") if python_path is None else python_path])
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, *isolation, "-X", "importtime", "-c", "import app"],
            capture_output=True,
            text=True,
            env={**env, "PYTHONPATH": path, **read_only},
            cwd=handler_dir,
            timeout=120,
            check=False,
        )
        process_seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise ChildFailed(f"import app in {handler_dir.name}: {(done.stderr.strip().splitlines() or [''])[-1]}")
        run = _parse_importtime(done.stderr, process_seconds)
        if best is None or run.seconds < best.seconds:
            best = run
    assert best is not None
    return best


def _parse_importtime(stderr: str, process_seconds: float) -> ColdStart:
    cumulative: dict[str, int] = {}
    own: dict[str, int] = {}
    for line in stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            own[match.group(4)], cumulative[match.group(4)] = int(match.group(1)), int(match.group(2))
    if "app" not in cumulative:
        raise ChildFailed("-X importtime did not list app")
    packages = sorted(
        (
            (name, microseconds / 1e6)
            for name, microseconds in cumulative.items()
            if "." not in name and name not in sys.stdlib_module_names and not name.startswith("_") and name != "app"
        ),
        key=lambda pair: -pair[1],
    )
    return ColdStart(
        seconds=cumulative["app"] / 1e6,
        setup_seconds=own["app"] / 1e6,
        process_seconds=process_seconds,
        heaviest=packages[:5],
        modules=frozenset(cumulative),
    )


# Run in the handler's environment: which AWS clients importing `app` makes, by service name, in order.
_CLIENTS_PROBE = """
import json
from credits_pipeline.adapters.aws_clients import aws_session
session, made = aws_session(), []
create = session.create_client
def recorded(service_name, *args, **kwargs):
    made.append(service_name)
    return create(service_name, *args, **kwargs)
session.create_client = recorded
import app
print(json.dumps(made))
"""
# The same clients made by botocore alone: the least any handler that makes them at cold start can cost.
_SDK_ALONE = """import botocore.session

session = botocore.session.get_session()
clients = [session.create_client(service) for service in {services!r}]
"""


@dataclass(frozen=True)
class SdkAlone:
    services: tuple[str, ...]  # the clients the handler makes at cold start
    seconds: float  # importing botocore and making those clients, nothing else


def sdk_alone(handler_dir: Path, env: Mapping[str, str], runs: int, python_path: str | None, scratch: Path) -> SdkAlone:
    """What the SDK alone costs a handler's cold start: botocore imported and the handler's own clients made,
    in the same environment (`python -X importtime`, best of `runs`). No handler can start faster."""
    isolation = ["-S"] if python_path is not None else []
    path = os.pathsep.join([str(handler_dir), env.get("PYTHONPATH", "") if python_path is None else python_path])
    done = subprocess.run(
        [sys.executable, *isolation, "-c", _CLIENTS_PROBE],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": path},
        cwd=handler_dir,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise ChildFailed(f"clients of {handler_dir.name}: {(done.stderr.strip().splitlines() or [''])[-1]}")
    services = tuple(json.loads(done.stdout.strip().splitlines()[-1]))
    alone = scratch / f"sdk-alone-{handler_dir.name}"
    alone.mkdir(parents=True, exist_ok=True)
    (alone / "app.py").write_text(_SDK_ALONE.format(services=services))
    measured = cold_start(alone, env, runs, python_path)
    return SdkAlone(services, measured.seconds)
