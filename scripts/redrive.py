"""`python scripts/redrive.py ...` is the `credits-redrive` command: see operator_commands/redrive.py."""

import sys

from operator_commands.redrive import main

if __name__ == "__main__":
    sys.exit(main())
