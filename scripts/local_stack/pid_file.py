"""Which local stack `make local-up` left running in a folder: the one rule `local-up` and `local-down` share."""

import os
from pathlib import Path

PID_FILE = "local-up.pid"
ENV_FILE = "local-up.env"


def running_stack(pid_file: Path) -> int | None:
    """The pid of the stack the file names, if that process still runs local_up. A pid file that is empty,
    whose process is gone, or whose pid now belongs to another program (pids are reused), or to this very
    process (a stack killed hard, its pid reused by the command asking), is stale: None."""
    try:
        pid = int(pid_file.read_text(encoding="utf-8"))
        if pid == os.getpid():
            return None
        os.kill(pid, 0)
        command = Path(f"/proc/{pid}/cmdline")
        arguments = command.read_bytes().split(b"\0") if command.exists() else []
    except (OSError, ValueError):
        return None
    # Empty while a process starts or ends; else it must be a python running local_up.py (an editor open on
    # scripts/local_up.py names it too, but is no python).
    if arguments and not _runs_local_up(arguments):
        return None
    return pid


def _runs_local_up(arguments: list[bytes]) -> bool:
    """A python (`python -u scripts/local_up.py ...` too) whose script is local_up.py: the first argument that
    is no option is the script."""
    if not os.path.basename(arguments[0]).startswith(b"python"):
        return False
    script = next((argument for argument in arguments[1:] if not argument.startswith(b"-")), b"")
    return script.endswith(b"local_up.py")
