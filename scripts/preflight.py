"""`python scripts/preflight.py ...` is the `credits-preflight` command: see operator_commands/preflight.py."""

from operator_entry import run

if __name__ == "__main__":
    run("preflight")
