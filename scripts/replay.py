"""`python scripts/replay.py ...` is the `credits-replay` command: see operator_commands/replay.py."""

import sys

from operator_commands.replay import main

if __name__ == "__main__":
    sys.exit(main())
