"""Wall and CPU seconds of one call, from the standard library's clocks."""

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Seconds:
    wall: float
    cpu: float  # this process's CPU, every thread (time.process_time)


def timed[T](work: Callable[[], T]) -> tuple[T, Seconds]:
    wall, cpu = time.perf_counter(), time.process_time()
    value = work()
    return value, Seconds(time.perf_counter() - wall, time.process_time() - cpu)
