"""`python scripts/<name>.py`, the form the alerts give, runs the command whichever `python` and folder it is
run from, or says in one line how to make the project's environment."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_operator_cli import COMMANDS

REPO = Path(__file__).resolve().parents[2]
# The interpreter the venv was made from: a `python` on an operator's PATH, without the project installed.
OTHER_PYTHON = getattr(sys, "_base_executable", sys.executable)


@pytest.mark.parametrize("name", [name.removeprefix("credits-") for name, _, _ in COMMANDS])
def test_the_script_form_the_alerts_give_runs_the_command_from_any_python_and_any_folder(
    name: str, tmp_path: Path
) -> None:
    ran = subprocess.run(
        [OTHER_PYTHON, str(REPO / "scripts" / f"{name}.py"), "--help"],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith(f"usage: credits-{name}")


def test_the_script_form_without_the_projects_venv_says_to_make_it(tmp_path: Path) -> None:
    scripts = tmp_path / "checkout" / "scripts"
    scripts.mkdir(parents=True)
    for script in ("operator_entry.py", "redrive.py"):
        (scripts / script).write_text((REPO / "scripts" / script).read_text())

    ran = subprocess.run(
        [OTHER_PYTHON, "-S", str(scripts / "redrive.py")], capture_output=True, text=True, timeout=60, check=False
    )

    assert ran.returncode == 2
    assert ran.stderr == (
        f"credits-redrive: operator_commands is not installed for {OTHER_PYTHON}: run `make install` in "
        f"{tmp_path / 'checkout'} (it makes .venv), then this again\n"
    )


def test_output_cut_short_by_its_reader_ends_quietly(tmp_path: Path) -> None:
    credits = tmp_path / "credits-2026-01.csv"  # its CBF body far beyond a pipe's buffer (64 KiB)
    credits.write_text("".join(f"{account:012d},1.00\n" for account in range(1, 5001)))
    command = [sys.executable, str(REPO / "scripts" / "preview.py"), str(credits), "--json", "--cbf"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path) as preview:
        assert preview.stdout is not None and preview.stderr is not None
        assert preview.stdout.read(10).startswith(b"{")
        preview.stdout.close()  # as `| head -c 10` does
        stderr = preview.stderr.read().decode()
    assert preview.returncode == 141  # 128 + SIGPIPE, as a shell tool cut short ends
    assert stderr == ""
