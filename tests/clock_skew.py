"""Run an operator command with its machine's clock off by some seconds, in a child process (the moto server
and the emulator keep the true time, as AWS does):

    python -m tests.clock_skew 10 operator_commands.replay --stack-name S --month 2026-02 --file K
"""

import importlib
import sys
import time

import time_machine


def main() -> int:
    seconds, module, *arguments = sys.argv[1:]
    command = importlib.import_module(module)
    with time_machine.travel(time.time() + float(seconds), tick=True):
        return int(command.main(arguments))


if __name__ == "__main__":
    sys.exit(main())
