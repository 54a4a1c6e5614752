"""Stop the local stack `make local-up` started in this folder.

python scripts/local_down.py [--local-dir .local]     # make local-down
"""

import argparse
import os
import signal
from pathlib import Path

from local_stack.pid_file import ENV_FILE, PID_FILE, running_stack
from local_stack.session import LOCAL_DIR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--local-dir", type=Path, default=LOCAL_DIR, help="the folder local-up used (default .local)")
    pid_file = parser.parse_args(argv).local_dir / PID_FILE
    pid = running_stack(pid_file)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)  # local-up removes its pid and env files as it stops
        print(f"local stack stopping (pid {pid})")
    elif pid_file.exists():
        pid_file.unlink()
        (pid_file.parent / ENV_FILE).unlink(missing_ok=True)
        print(f"no local stack is running ({pid_file} was stale: removed)")
    else:
        print(f"no local stack is running (no {pid_file})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
