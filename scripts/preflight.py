"""`python scripts/preflight.py ...` is the `credits-preflight` command: see operator_commands/preflight.py."""

import sys

from operator_commands.preflight import main

if __name__ == "__main__":
    sys.exit(main())
