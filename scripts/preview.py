"""`python scripts/preview.py ...` is the `credits-preview` command: see operator_commands/preview.py."""

from operator_entry import run

if __name__ == "__main__":
    run("preview")
