"""One hostile input through the real splitter handler: uploaded, announced by an S3 event, timed and measured."""

import io
import logging
import signal
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from logging import StreamHandler
from types import FrameType
from typing import Any

import boto3

from credits_pipeline.services.observability import logger
from local_stack.provision import StackOutputs
from local_stack.runner import LocalContext
from tests.fuzz.corpus import HostileInput
from tests.fuzz.memory import PeakMemory
from tests.lambda_events import Handler, s3_event

# One input taking longer than this is a failure: a bad upload must be refused cheaply.
TIMEOUT_SECONDS = 10.0
# A runaway input is interrupted here, so one hang reports itself instead of stalling the suite.
GUARD_SECONDS = 3 * TIMEOUT_SECONDS
LOG_TAIL_CHARS = 2000
TRACEBACK_FRAMES = 6


class GuardExpired(BaseException):
    """Raised into the handler by the guard's alarm; a BaseException so no `except Exception` hides it."""


@dataclass(frozen=True)
class Trial:
    hostile: HostileInput
    version_id: str
    seconds: float
    peak_bytes: int
    # What the handler answered for the file (`pending`, `rejected`, `duplicate`); None when it raised.
    status: str | None
    sha256: str | None
    # The exception and the end of the function's log, when the handler raised.
    crash: str | None

    @property
    def timed_out(self) -> bool:
        return self.seconds > TIMEOUT_SECONDS

    @property
    def name(self) -> str:
        return f"{self.hostile.key} ({self.hostile.label})"


def run_trial(handler: Handler, stack: StackOutputs, hostile: HostileInput, memory: PeakMemory) -> Trial:
    put = boto3.client("s3").put_object(Bucket=stack.bucket_name, Key=hostile.key, Body=hostile.data)
    event = s3_event(stack.bucket_name, hostile.key, len(hostile.data), put["VersionId"])
    context = LocalContext(
        stack.splitter_function_name, stack.splitter.timeout_seconds, memory_limit_in_mb=stack.splitter.memory_mb
    )
    result: Any = None
    crash = None
    with function_log() as log, redirect_stdout(log):
        memory.start()
        started = time.perf_counter()
        try:
            with guard(GUARD_SECONDS):
                result = handler(event, context)
        except (Exception, GuardExpired):
            crash = f"{traceback.format_exc(limit=-TRACEBACK_FRAMES)}\n--- the function's log ends:\n"
            crash += log.getvalue()[-LOG_TAIL_CHARS:]
        seconds = time.perf_counter() - started
        peak = memory.growth()
    files = result["files"] if isinstance(result, dict) else []
    answer = files[0] if len(files) == 1 else {}
    if crash is None and not answer:
        crash = f"the handler answered {result!r}, not one file"
    return Trial(hostile, put["VersionId"], seconds, peak, answer.get("status"), answer.get("sha256"), crash)


@contextmanager
def function_log() -> Iterator[io.StringIO]:
    """The function's log lines for one input, kept apart (hundreds of inputs would flood the test output)."""
    handler = logger.registered_handler
    assert isinstance(handler, StreamHandler)
    standard = logging.getLogger(logger.name)  # the logger Powertools writes through
    log = io.StringIO()
    previous, propagate = handler.setStream(log), standard.propagate
    standard.propagate = False  # pytest's log capture would keep every line too
    try:
        yield log
    finally:
        handler.setStream(previous)
        standard.propagate = propagate


@contextmanager
def guard(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: FrameType | None) -> None:
        raise GuardExpired(f"interrupted after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
