"""Peak memory of one stretch of work as the kernel counts it (RSS): pyarrow's native buffers count too.

On Linux the process's high-water mark is reset before (`/proc/self/clear_refs`) and read after; the
peak growth is what the work needed above what the process already held. Elsewhere `ru_maxrss` only
shows a new high of the whole process: a lower bound.
"""

import ctypes
import ctypes.util
import re
import resource
import sys
from pathlib import Path

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")
_RESET_PEAK = "5"  # see proc(5): resets the peak resident set size to the current one


def _status_bytes(field: str) -> int:
    match = re.search(rf"^{field}:\s+(\d+) kB$", _STATUS.read_text(), re.MULTILINE)
    return int(match[1]) * 1024 if match else 0


def _max_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _release_free_memory() -> None:
    """Hand freed heap pages back to the system (glibc): else the next peak hides in memory already held."""
    libc_name = ctypes.util.find_library("c")
    if libc_name and sys.platform.startswith("linux"):
        ctypes.CDLL(libc_name).malloc_trim(0)


class PeakMemory:
    def __init__(self) -> None:
        self._resettable = _CLEAR_REFS.exists()
        self._start = 0

    def start(self) -> None:
        _release_free_memory()
        if self._resettable:
            _CLEAR_REFS.write_text(_RESET_PEAK)
            self._start = _status_bytes("VmRSS")
        else:
            self._start = _max_rss_bytes()

    def growth(self) -> int:
        """Bytes the peak since `start` rose above the resident memory at `start`."""
        peak = _status_bytes("VmHWM") if self._resettable else _max_rss_bytes()
        return max(0, peak - self._start)
