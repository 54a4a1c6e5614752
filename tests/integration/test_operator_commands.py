"""Operator commands pointed at a stack that does not exist (in moto's server): one line, exit code 2."""

from pathlib import Path

import pytest

from tests.unit.test_operator_cli import COMMANDS, Main, args, one_line


@pytest.mark.parametrize(("name", "main", "extra"), COMMANDS, ids=[c[0] for c in COMMANDS])
def test_a_stack_that_does_not_exist_is_one_line_and_exit_code_2(
    name: str, main: Main, extra: list[str], aws_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*args(extra, tmp_path, name), "--stack-name", "no-such-stack"]) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"{name}: no stack named no-such-stack in us-east-1")
    assert "--stack-name" in line and "--region" in line
