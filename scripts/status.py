"""`python scripts/status.py ...` is the `credits-status` command: see operator_commands/status.py."""

from operator_entry import run

if __name__ == "__main__":
    run("status")
