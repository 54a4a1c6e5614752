"""The speed and memory benchmark (`make bench`): measure, print a table, exit non-zero when a target is missed.

    python scripts/benchmark.py            # the team's sizes: 1M-account and 1M-row files (minutes)
    python scripts/benchmark.py --quick    # small sizes, seconds: the smoke check
    python scripts/benchmark.py --full     # also a 10M-row CUR
    python scripts/benchmark.py --json out.json --memray captures/

The work is in scripts/bench/ (see its __init__ for what is measured and how); `python -m bench`
from scripts/ does the same.
"""

import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
for path in (SCRIPTS, SCRIPTS.parent / "shared"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
