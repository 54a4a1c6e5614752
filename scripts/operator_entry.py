"""`python scripts/<name>.py` runs the `credits-<name>` command whichever `python` runs it (the alerts give
this form): outside the project's .venv, the command starts again in it; without one, one line says to make it.
"""

import importlib
import os
import sys
from pathlib import Path
from typing import NoReturn

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv"


def run(name: str) -> NoReturn:
    in_venv = Path(sys.prefix).resolve() == VENV.resolve()
    try:
        command = importlib.import_module(f"operator_commands.{name}")
    except ModuleNotFoundError as missing:
        if in_venv:
            raise  # the project's own environment is broken: not an operator's mistake to hide
        python = VENV / "bin" / "python"
        if python.exists():
            os.execv(python, [str(python), *sys.argv])
        print(
            f"credits-{name}: {missing.name} is not installed for {sys.executable}: run `make install` in {REPO} "
            "(it makes .venv), then this again",
            file=sys.stderr,
        )
        sys.exit(2)
    sys.exit(command.main())
