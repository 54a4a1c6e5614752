"""`python scripts/verify.py ...` is the `credits-verify` command: see operator_commands/verify.py."""

from operator_entry import run

if __name__ == "__main__":
    run("verify")
