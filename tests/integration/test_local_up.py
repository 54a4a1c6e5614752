"""`make local-up` refuses, in one line and at once, to start where it cannot run: a stack of this folder
still up, or a port taken (moto's server would wait for it forever). `make local-down` stops the stack
the pid file names, and signals nothing else."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import local_down
import local_up
import pytest

from local_stack.pid_file import ENV_FILE, PID_FILE


def test_a_second_local_up_says_one_is_up_and_leaves_its_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pid_file, env_file = tmp_path / PID_FILE, tmp_path / ENV_FILE
    # The first stack: a python running a local_up.py; a port in use ends a start that missed it.
    with (
        subprocess.Popen([sys.executable, stand_in(tmp_path)]) as first,
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken,
    ):
        try:
            started(first)
            pid_file.write_text(f"{first.pid}\n")
            env_file.write_text("export AWS_ENDPOINT_URL=http://127.0.0.1:5000\n")
            taken.bind(("127.0.0.1", 0))

            assert local_up.main(["--local-dir", str(tmp_path), "--moto-port", str(taken.getsockname()[1])]) == 2
        finally:
            first.kill()

    assert f"a local stack is already up (pid {first.pid}" in capsys.readouterr().err
    assert pid_file.exists() and env_file.exists()  # `make local-down` still finds the first one


def test_a_pid_file_left_by_a_stack_long_gone_does_not_stop_local_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with (
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as other,  # the pid, reused
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken,  # a port in use ends the start here
    ):
        try:
            started(other)
            (tmp_path / PID_FILE).write_text(f"{other.pid}\n")
            taken.bind(("127.0.0.1", 0))
            port = taken.getsockname()[1]
            assert local_up.main(["--local-dir", str(tmp_path), "--moto-port", str(port)]) == 2
        finally:
            other.kill()

    said = capsys.readouterr().err
    assert "already up" not in said and f"port {port} is in use" in said


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


def stand_in(tmp_path: Path, body: str = "import time\ntime.sleep(60)\n") -> str:
    """A script named local_up.py that only waits: a running stack, as its command line shows it."""
    script = tmp_path / "stand-in" / "local_up.py"
    script.parent.mkdir(exist_ok=True)
    script.write_text(body)
    return str(script)


def started(process: subprocess.Popen[bytes]) -> None:
    """Until its command line is its own: a process just forked shows its parent's, or none."""
    command = Path(f"/proc/{process.pid}/cmdline")
    deadline = time.monotonic() + 10
    while (
        command.exists()
        and not any(mark in command.read_bytes() for mark in (b"time.sleep", b"local_up.py"))
        and time.monotonic() < deadline
    ):
        time.sleep(0.01)


def test_a_pid_file_holding_local_ups_own_pid_is_stale(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / PID_FILE).write_text(f"{os.getpid()}\n")  # a stack killed hard; its pid reused by this one
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:  # a port in use ends the start here
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        assert local_up.main(["--local-dir", str(tmp_path), "--moto-port", str(port)]) == 2

    said = capsys.readouterr().err
    assert "already up" not in said and f"port {port} is in use" in said


@pytest.mark.parametrize("options", [[], ["-u"]], ids=["python", "python -u"])
def test_local_down_stops_the_running_stack(
    options: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with subprocess.Popen([sys.executable, *options, stand_in(tmp_path)]) as stack:
        try:
            started(stack)
            (tmp_path / PID_FILE).write_text(f"{stack.pid}\n")

            assert local_down.main(["--local-dir", str(tmp_path)]) == 0
            assert stack.wait(timeout=10) == -15  # SIGTERM: local-up stops and removes its own files
        finally:
            stack.kill()

    assert f"local stack stopping (pid {stack.pid})" in capsys.readouterr().out


@pytest.mark.parametrize("holder", ["empty", "gone", "another program", "an editor open on local_up.py"])
def test_local_down_signals_nothing_for_a_stale_pid_file(
    holder: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pid_file, env_file = tmp_path / PID_FILE, tmp_path / ENV_FILE
    env_file.write_text("export AWS_ENDPOINT_URL=http://127.0.0.1:5000\n")
    command = {
        "gone": [sys.executable, "-c", "pass"],
        "another program": [sys.executable, "-c", "import time; time.sleep(60)"],
        "an editor open on local_up.py": ["/bin/sh", stand_in(tmp_path, "sleep 60\n")],  # a program, then the path
    }.get(holder)
    process = subprocess.Popen(command) if command else None
    try:
        if process is not None:
            started(process)
            if holder == "gone":
                process.wait(timeout=10)
        pid_file.write_text(f"{process.pid}\n" if process else "")

        assert local_down.main(["--local-dir", str(tmp_path)]) == 0
        if process is not None and holder != "gone":
            assert process.poll() is None  # still running: not signalled
    finally:
        if process is not None:
            process.kill()
            process.wait()

    assert "was stale: removed" in capsys.readouterr().out
    assert not pid_file.exists() and not env_file.exists()


def test_local_down_with_no_stack_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert local_down.main(["--local-dir", str(tmp_path)]) == 0
    assert f"no local stack is running (no {tmp_path / PID_FILE})" in capsys.readouterr().out
