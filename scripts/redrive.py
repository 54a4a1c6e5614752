"""`python scripts/redrive.py ...` is the `credits-redrive` command: see operator_commands/redrive.py."""

from operator_entry import run

if __name__ == "__main__":
    run("redrive")
