"""The handlers' runtime-only environment: only what Lambda would have, installed once and cached.

The dev venv holds moto, pyarrow, pytest, the SAM CLI (and awscrt, which botocore loads when it finds
it): a handler imported there loads packages Lambda would not have. So a cold start is measured
against `pip install --target` directories, laid out and ordered on `sys.path` as Lambda does:

- /var/task: `app.py` and the function's requirements (`functions/<f>/requirements.txt`);
- /opt/python, the layer: `shared/requirements.txt` and `credits_pipeline`;
- /var/runtime: the AWS SDK (boto3 at the dev pin; Lambda's python3.12 runtime ships its own).

Each is resolved with its dependencies, as `sam build` resolves it. `sam build` unzips wheels and
copies sources without compiling them, /var/task and /opt are read-only, and `make build` then
compiles the whole build (scripts/compile_build.py). So the requirements are installed without
bytecode and compiled the same way, the project's code is a fresh copy compiled the same way for
every run (no __pycache__ of a developer's), and the measured interpreter writes no bytecode.

A package's size is what Lambda counts against its unzipped limit: the function's directory and the
layer, never the SDK. The functions run on arm64 (template.yaml), so sizes come from a second install
of the same requirements for that platform (wheels only); this machine imports from the first.
Installs are cached under `.bench-cache/`, keyed by a hash of the requirements and the interpreter.
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
from compile_build import compile_tree

FUNCTIONS = ("splitter", "pusher", "watchdog")
CACHE = REPO / ".bench-cache"
SHARED = REPO / "shared"
PIP_TIMEOUT_SECONDS = 600
# Lambda's python3.12 runs on Amazon Linux 2023 (glibc 2.34), arm64 as the template says; pip takes
# only the tags it is given, so every manylinux generation that glibc runs is named.
LAMBDA_PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64", "manylinux_2_34_aarch64")
DEPLOYED = "-deployed"  # the suffix of the installs for Lambda's platform, measured for size only
LAYOUT = 3
KEPT_ENVIRONMENTS = 3  # bump when what is installed changes, so an older cache is not reused
_NO_CACHES = shutil.ignore_patterns("__pycache__", "*.pyc")  # a developer's, which the build does not copy


class RuntimeUnavailable(Exception):
    """The runtime-only environment could not be installed (offline, or a requirement unknown to PyPI)."""


@dataclass(frozen=True)
class Deployment:
    """One function's code as deployed, beside the cached requirements: where to import `app` from."""

    handler_dir: Path  # /var/task
    python_path: str  # the rest of sys.path, in Lambda's order
    code: tuple[Path, ...]  # the project's own folders (compiled), for the package's size


@dataclass(frozen=True)
class RuntimeEnvironment:
    root: Path

    def deploy(self, function: str, scratch: Path) -> Deployment:
        """A fresh copy of the function's and the layer's code under `scratch` (no bytecode from earlier runs)."""
        task, layer_code = scratch / f"{function}-task", scratch / f"{function}-layer"
        for directory in (task, layer_code):
            shutil.rmtree(directory, ignore_errors=True)
        shutil.copytree(REPO / "functions" / function, task, ignore=_NO_CACHES)
        shutil.copytree(SHARED / "credits_pipeline", layer_code / "credits_pipeline", ignore=_NO_CACHES)
        compile_tree(task, "/var/task")
        compile_tree(layer_code, "/opt/python")
        parts = [self.root / function, self.root / "layer", layer_code, self.root / "aws-sdk"]
        return Deployment(task, os.pathsep.join(str(part) for part in parts), (task, layer_code))

    def package_bytes(self, function: str, deployed: Deployment) -> int:
        """The function's deployment unzipped, as Lambda counts it: its code and requirements, and the layer."""
        installed = _tree_bytes(self.root / f"{function}{DEPLOYED}") + _tree_bytes(self.root / f"layer{DEPLOYED}")
        return installed + sum(_tree_bytes(Path(path)) for path in deployed.code)


def runtime_environment() -> RuntimeEnvironment:
    """The cached environment for today's requirements, installed first when it is not there yet."""
    requirements = {
        "layer": _requirements(SHARED / "requirements.txt"),
        "aws-sdk": [f"boto3=={_boto3_pin()}"],
        **{function: _requirements(REPO / "functions" / function / "requirements.txt") for function in FUNCTIONS},
    }
    identity = (LAYOUT, sys.version_info[:2], platform.machine(), LAMBDA_PLATFORMS, sorted(requirements.items()))
    key = hashlib.sha256(repr(identity).encode()).hexdigest()[:16]
    root = CACHE / f"runtime-{key}"
    if (root / "complete").exists():
        (root / "complete").touch()  # used: kept when older ones are cleared
        return RuntimeEnvironment(root)
    building = CACHE / f"building-{key}-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    try:
        for name, wanted in requirements.items():
            (building / name).mkdir(parents=True)
            if not wanted:
                continue
            # Lambda's image ships the SDK compiled; `sam build` compiles nothing it installs.
            _pip_install(building / name, wanted, compile_bytecode=name == "aws-sdk")
            if name != "aws-sdk":
                _pip_install(building / f"{name}{DEPLOYED}", wanted, platforms=LAMBDA_PLATFORMS)
                # As `make build` compiles what `sam build` installed.
                deployed_at = "/opt/python" if name == "layer" else "/var/task"
                compile_tree(building / name, deployed_at)
                compile_tree(building / f"{name}{DEPLOYED}", deployed_at)
        installed = "\n".join(f"{name}: {' '.join(wanted)}" for name, wanted in requirements.items())
        (building / "complete").write_text(installed + "\n")
        shutil.rmtree(root, ignore_errors=True)
        building.rename(root)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    _clear_old_environments()
    return RuntimeEnvironment(root)


def _clear_old_environments() -> None:
    """Keep the few environments used last (a pyarrow one is 350 MB): branches with other requirements."""
    built = sorted(CACHE.glob("runtime-*/complete"), key=lambda marker: marker.stat().st_mtime, reverse=True)
    for marker in built[KEPT_ENVIRONMENTS:]:
        shutil.rmtree(marker.parent, ignore_errors=True)


def _pip_install(
    target: Path, requirements: list[str], compile_bytecode: bool = False, platforms: tuple[str, ...] = ()
) -> None:
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input"]
    command += ["--target", str(target), "--compile" if compile_bytecode else "--no-compile"]
    if platforms:
        command += [*(f"--platform={tag}" for tag in platforms), "--python-version=3.12", "--only-binary=:all:"]
    try:
        done = subprocess.run(
            [*command, *requirements], capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        wanted = " ".join(requirements)
        raise RuntimeUnavailable(f"pip install {wanted}: no answer in {PIP_TIMEOUT_SECONDS} s") from None
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


def _tree_bytes(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())
