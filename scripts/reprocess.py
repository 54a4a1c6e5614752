"""`python scripts/reprocess.py ...` is the `credits-reprocess` command: see operator_commands/reprocess.py."""

import sys

from operator_commands.reprocess import main

if __name__ == "__main__":
    sys.exit(main())
