"""`python scripts/status.py ...` is the `credits-status` command: see operator_commands/status.py."""

import sys

from operator_commands.status import main

if __name__ == "__main__":
    sys.exit(main())
