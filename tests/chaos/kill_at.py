"""Run one Lambda handler in a child process and kill the process at a chosen instant.

    python -m tests.chaos.kill_at splitter EVENT.json --kill after:sqs.SendMessage:1 [--clock-offset 61]

The instant is an AWS call: right `before` or `after` the Nth call of `service.Operation` (botocore's own
`before-call`/`after-call` events, so nothing of the project is patched) the process ends with `os._exit`, as an
out-of-memory kill or a host failure would end it: no `finally`, no flush, no cleanup.
`--clock-offset` runs the handler that many seconds in the future (time-machine), to stand for Lambda's
retry delay without waiting for it. Exit code KILLED when killed, 0 when the handler returned.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import time_machine

from credits_pipeline.adapters.aws_clients import aws_session
from local_stack.runner import REPO, LocalContext, load_handler

KILLED = 137


def _killer(count: int) -> Any:
    seen = 0

    def on_call(**_: Any) -> None:
        nonlocal seen
        seen += 1
        if seen >= count:
            sys.stdout.flush()
            os._exit(KILLED)

    return on_call


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("function", choices=["splitter", "pusher"])
    parser.add_argument("event", type=Path)
    parser.add_argument("--kill", default="", help="before|after:service.Operation:N, e.g. after:sqs.SendMessage:1")
    parser.add_argument("--timeout", type=float, default=300.0, help="the function's timeout (context)")
    parser.add_argument("--clock-offset", type=float, default=0.0, help="seconds to run in the future")
    args = parser.parse_args()

    with time_machine.travel(time.time() + args.clock_offset, tick=True):
        if args.kill:
            when, operation, count = args.kill.split(":")
            service, name = operation.split(".")
            # The session every client of the functions is made from (adapters.aws_clients).
            aws_session().register(f"{when}-call.{service}.{name}", _killer(int(count)))
        handler = load_handler(REPO / "functions" / args.function / "app.py", f"chaos_{args.function}_app")
        result = handler(json.loads(args.event.read_text()), LocalContext(f"chaos-{args.function}", args.timeout))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
