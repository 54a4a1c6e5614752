"""The handlers' runtime-only environment: only what Lambda would have, installed once and cached.

The dev venv holds moto, pyarrow, pytest, the SAM CLI (and awscrt, which botocore imports when it
finds it): a handler imported there loads packages Lambda would not have, and misses none it would.
So cold starts are measured against `pip install --target` directories laid out as Lambda lays them
out, in the order Lambda puts them on `sys.path`:

- the function's own requirements (`functions/<f>/requirements.txt`: /var/task beside `app.py`);
- the layer: `shared/requirements.txt` plus `shared/credits_pipeline` (/opt/python);
- the AWS SDK (boto3 at the dev pin, which Lambda's python3.12 runtime ships in /var/runtime).

Each is resolved with its dependencies, as `sam build` resolves it. A package's size is what Lambda
counts against its unzipped limit: the function's and the layer's directories, never the SDK. The
functions run on arm64 (template.yaml), so sizes come from a second install of the same requirements
for that platform (wheels only); this machine imports from the first. Installs are cached under
`.bench-cache/`, keyed by a hash of the requirements and the interpreter.
"""

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from bench.measure import REPO

FUNCTIONS = ("splitter", "pusher", "watchdog")
CACHE = REPO / ".bench-cache"
SHARED = REPO / "shared"
PIP_TIMEOUT_SECONDS = 600
# Lambda's python3.12 runs on Amazon Linux 2023 (glibc 2.34), arm64 as the template says; pip takes
# only the tags it is given, so every manylinux generation that glibc runs is named.
LAMBDA_PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64", "manylinux_2_34_aarch64")
DEPLOYED = "-deployed"  # the suffix of the installs for Lambda's platform, measured for size only


class RuntimeUnavailable(Exception):
    """The runtime-only environment could not be installed (offline, or a requirement unknown to PyPI)."""


@dataclass(frozen=True)
class RuntimeEnvironment:
    root: Path

    def function_dir(self, function: str) -> Path:
        return self.root / function

    @property
    def layer_dir(self) -> Path:
        return self.root / "layer"

    @property
    def sdk_dir(self) -> Path:
        return self.root / "aws-sdk"

    def python_path(self, function: str) -> str:
        """The import path of Lambda's python3.12 runtime for the function, without the handler's folder."""
        parts = [self.function_dir(function), self.layer_dir, SHARED, self.sdk_dir]
        return os.pathsep.join(str(part) for part in parts)

    def package_bytes(self, function: str) -> int:
        """The function's deployment unzipped, as Lambda counts it: its code and requirements, and the layer."""
        installed = _tree_bytes(self.root / f"{function}{DEPLOYED}") + _tree_bytes(self.root / f"layer{DEPLOYED}")
        source = _tree_bytes(REPO / "functions" / function, caches=False)
        return installed + source + _tree_bytes(SHARED / "credits_pipeline", caches=False)


def runtime_environment() -> RuntimeEnvironment:
    """The cached environment for today's requirements, installed first when it is not there yet."""
    requirements = {
        "layer": _requirements(SHARED / "requirements.txt"),
        "aws-sdk": [f"boto3=={_boto3_pin()}"],
        **{function: _requirements(REPO / "functions" / function / "requirements.txt") for function in FUNCTIONS},
    }
    key = hashlib.sha256(
        repr((sys.version_info[:2], platform.machine(), LAMBDA_PLATFORMS, sorted(requirements.items()))).encode()
    ).hexdigest()[:16]
    root = CACHE / f"runtime-{key}"
    if (root / "complete").exists():
        return RuntimeEnvironment(root)
    building = CACHE / f"building-{key}-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    try:
        for name, wanted in requirements.items():
            (building / name).mkdir(parents=True)
            if wanted:
                _pip_install(building / name, wanted)
            if wanted and name != "aws-sdk":
                _pip_install(building / f"{name}{DEPLOYED}", wanted, LAMBDA_PLATFORMS)
        (building / "complete").write_text(
            "\n".join(f"{name}: {' '.join(wanted)}" for name, wanted in requirements.items())
        )
        shutil.rmtree(root, ignore_errors=True)
        building.rename(root)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return RuntimeEnvironment(root)


def _pip_install(target: Path, requirements: list[str], platforms: tuple[str, ...] = ()) -> None:
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input"]
    if platforms:
        command += [*(f"--platform={tag}" for tag in platforms), "--python-version=3.12", "--only-binary=:all:"]
    # pip compiles bytecode by default, as `sam build` does: the deployed requirements ship their .pyc.
    command += ["--target", str(target), *requirements]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise RuntimeUnavailable(
            f"pip install {' '.join(requirements)}: no answer in {PIP_TIMEOUT_SECONDS} s"
        ) from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise RuntimeUnavailable(f"pip install {' '.join(requirements)} failed (offline?): {last}")


def _requirements(path: Path) -> list[str]:
    if not path.exists():
        return []
    lines = (line.partition("#")[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def _boto3_pin() -> str:
    """boto3's version in the dev dependencies: the SDK the tests run against."""
    dev: list[str] = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    pins = [requirement.partition("==")[2] for requirement in dev if requirement.startswith("boto3==")]
    if not pins:
        raise RuntimeUnavailable("pyproject.toml pins no boto3== in the dev dependencies")
    return pins[0]


def _tree_bytes(directory: Path, caches: bool = True) -> int:
    """Bytes of the files under `directory`; without __pycache__ for the project's own source (a
    developer's local caches, which the build does not make)."""
    return sum(
        path.stat().st_size
        for path in directory.rglob("*")
        if path.is_file() and (caches or "__pycache__" not in path.parts)
    )
