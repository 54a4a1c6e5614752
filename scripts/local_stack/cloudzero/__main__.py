"""Serve the emulator until SIGTERM or Ctrl-C, printing its base URL first.

python scripts/local_stack/cloudzero --port 8765 --api-key KEY [--connection-id ID ...]
python -m local_stack.cloudzero --port 8765 --api-key KEY     (with scripts/ on the path)
"""

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

if not __package__:
    # Run as a directory: import the package from scripts/ rather than its modules as top-level ones.
    sys.path[0] = str(Path(__file__).resolve().parents[2])

from local_stack.cloudzero.emulator import CloudZeroEmulator
from local_stack.cloudzero.rules import DEFAULT_API_KEY, DEFAULT_MAX_BODY_BYTES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the CloudZero AnyCost Stream API emulator on loopback.")
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port (default 8765)")
    parser.add_argument("--api-key", default=DEFAULT_API_KEY, help="the exact Authorization header value")
    parser.add_argument("--max-body-bytes", type=int, default=DEFAULT_MAX_BODY_BYTES)
    parser.add_argument(
        "--connection-id",
        action="append",
        dest="connections",
        metavar="ID",
        help="a connection of the account, repeatable; the others are 404 (default: every id is a connection)",
    )
    args = parser.parse_args(argv)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    with CloudZeroEmulator(
        api_key=args.api_key,
        host=args.host,
        port=args.port,
        max_body_bytes=args.max_body_bytes,
        connections=args.connections,
    ) as emulator:
        print(emulator.base_url, flush=True)
        try:
            while not stop.wait(1.0):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
