"""`python scripts/preview.py ...` is the `credits-preview` command: see operator_commands/preview.py."""

import sys

from operator_commands.preview import main

if __name__ == "__main__":
    sys.exit(main())
