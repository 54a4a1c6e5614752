"""`python scripts/verify.py ...` is the `credits-verify` command: see operator_commands/verify.py."""

import sys

from operator_commands.verify import main

if __name__ == "__main__":
    sys.exit(main())
