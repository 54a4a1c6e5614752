"""`make local-up` refuses, in one line and at once, to start where it cannot run: a stack of this folder
still up, or a port taken (moto's server would wait for it forever)."""

import os
import socket
from pathlib import Path

import local_up
import pytest


def test_a_second_local_up_says_one_is_up_and_leaves_its_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pid_file, env_file = tmp_path / local_up.PID_FILE, tmp_path / local_up.ENV_FILE
    pid_file.write_text(f"{os.getpid()}\n")  # a live process: the first stack
    env_file.write_text("export AWS_ENDPOINT_URL=http://127.0.0.1:5000\n")

    assert local_up.main(["--local-dir", str(tmp_path)]) == 2

    assert f"a local stack is already up (pid {os.getpid()}" in capsys.readouterr().err
    assert pid_file.exists() and env_file.exists()  # `make local-down` still finds the first one


def test_local_up_on_a_port_in_use_says_which_and_how_to_choose_another(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        assert local_up.main(["--local-dir", str(tmp_path), "--cloudzero-port", str(port), "--moto-port", "0"]) == 2

    said = capsys.readouterr().err
    assert f"port {port} is in use by another program" in said
    assert f"make local-up ARGS='--cloudzero-port {port + 1}'" in said
