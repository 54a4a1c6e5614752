"""`python scripts/replay.py ...` is the `credits-replay` command: see operator_commands/replay.py."""

from operator_entry import run

if __name__ == "__main__":
    run("replay")
