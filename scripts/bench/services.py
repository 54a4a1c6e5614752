"""moto's server, the CloudZero emulator and the stager, in a process of their own for the whole run.

Their own process, so that what they hold (uploaded files, batches, billing drops) and the CPU they
spend answering count for no measured function, as S3, SQS and CloudZero do not in Lambda. The same
process stages each run (`bench.stage`: a fresh stack, the upload): it keeps the SAM transform warm.

    python -m bench.services
        -> {"endpoint": ..., "cloudzero_url": ...}      first line on stdout, once serving
        <- {"stack_name": ..., "file": ..., ...}        a line on stdin: stage a run
        -> {"functions": {...}} or {"error": "..."}     the answer, a line on stdout
    Closing stdin stops it.
"""

import json
import logging
import os
import subprocess
import sys
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

SCRIPTS = Path(__file__).resolve().parents[1]
REPO = SCRIPTS.parent


class StagingFailed(Exception):
    pass


@dataclass
class Services:
    endpoint: str
    cloudzero_url: str
    _process: "subprocess.Popen[str]"

    def environment(self) -> dict[str, str]:
        """What a child needs to reach moto's server, and the import path."""
        return {**os.environ, **_aws_environment(self.endpoint), "PYTHONPATH": _python_path()}

    def stage(self, request: dict[str, Any]) -> dict[str, Any]:
        """Stage a run (see bench.stage.stage_request); the staged functions' configuration."""
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        answer: dict[str, Any] = json.loads(self._process.stdout.readline() or '{"error": "bench.services exited"}')
        if "error" in answer:
            raise StagingFailed(answer["error"])
        return answer


@contextmanager
def running_services() -> Iterator[Services]:
    """Start `python -m bench.services`, wait for its endpoints; stop it (by closing its stdin) at the end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.services"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": _python_path()},
        cwd=REPO,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        line = process.stdout.readline()
        if not line:
            raise StagingFailed(f"bench.services exited with {process.wait()} before serving")
        yield Services(_process=process, **json.loads(line))
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _python_path() -> str:
    return os.pathsep.join([str(REPO / "shared"), str(SCRIPTS), *filter(None, [os.environ.get("PYTHONPATH")])])


def _aws_environment(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }


def serve() -> None:
    # Only this process serves and stages: the benchmark's own process never loads these.
    from bench.stage import BENCH_MONTH_LIMITS, stage_request  # noqa: PLC0415
    from local_stack.cloudzero import CloudZeroEmulator  # noqa: PLC0415
    from local_stack.moto_stack import moto_server  # noqa: PLC0415
    from local_stack.provision import LOCAL_API_KEY  # noqa: PLC0415

    # moto says, for every stack, which resources its CloudFormation skips: provision.py explains those.
    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=r"Tried to parse .* not supported by moto")
    answers: IO[str] = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the functions' logs, when staging
    emulator = CloudZeroEmulator(api_key=LOCAL_API_KEY, month_limits=BENCH_MONTH_LIMITS)
    with moto_server() as endpoint, emulator:
        _answer(answers, {"endpoint": endpoint, "cloudzero_url": emulator.base_url})
        for line in sys.stdin:
            try:
                _answer(answers, stage_request(json.loads(line), emulator.base_url))
            except Exception as error:
                traceback.print_exc()
                _answer(answers, {"error": f"{type(error).__name__}: {error}"})


def _answer(out: IO[str], answer: dict[str, Any]) -> None:
    out.write(json.dumps(answer) + "\n")
    out.flush()


if __name__ == "__main__":
    serve()
