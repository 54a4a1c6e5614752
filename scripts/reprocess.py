"""`python scripts/reprocess.py ...` is the `credits-reprocess` command: see operator_commands/reprocess.py."""

from operator_entry import run

if __name__ == "__main__":
    run("reprocess")
