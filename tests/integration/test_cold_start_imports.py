"""What each handler loads at cold start: only what its own work needs (issue 10's cold-start budget).

Each handler is imported in a fresh interpreter with its stack's environment, as Lambda starts a
container; the dev venv holds every package below, so one that is not loaded was not imported.
The time itself is `make bench`'s to judge, never a test's.
"""

import json
import os
import subprocess
import sys

import pytest

from bench.cases import NOT_AT_COLD_START
from local_stack.provision import StackOutputs
from local_stack.runner import REPO
from tests.lambda_events import SETTINGS_VARIABLES

PROBE = "import json, sys\nimport app\nprint(json.dumps(sorted(sys.modules)))"
# Beyond what no handler loads at cold start (the benchmark's list): the CloudZero client is the pusher's.
NOT_LOADED = {
    # Any Powertools data class loads them all; the splitter reads its S3 event itself (adapters.s3_events).
    "splitter": (
        *NOT_AT_COLD_START,
        "requests",
        "credits_pipeline.adapters.cloudzero",
        "aws_lambda_powertools.utilities.data_classes",
    ),
    # Powertools' batch loads its pydantic event models when pydantic is already loaded: it must come first.
    "pusher": (*NOT_AT_COLD_START, "credits_pipeline.formats", "aws_lambda_powertools.utilities.parser"),
    "watchdog": (*NOT_AT_COLD_START, "requests", "credits_pipeline.adapters.cloudzero", "credits_pipeline.formats"),
}


def loaded_at_cold_start(function: str, environment: dict[str, str]) -> set[str]:
    variables = {name: value for name, value in os.environ.items() if name not in SETTINGS_VARIABLES}
    handler_dir = REPO / "functions" / function
    variables |= environment | {"PYTHONPATH": os.pathsep.join([str(handler_dir), str(REPO / "shared")])}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        check=False,
        capture_output=True,
        text=True,
        env=variables,
        cwd=handler_dir,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.parametrize("function", ["splitter", "pusher", "watchdog"])
def test_a_handler_loads_only_what_its_work_needs(stack: StackOutputs, function: str) -> None:
    environment = {"splitter": stack.splitter, "pusher": stack.pusher, "watchdog": stack.watchdog}[function].environment
    loaded = loaded_at_cold_start(function, dict(environment))
    assert "app" in loaded
    unwanted = {name for name in loaded if any(name == x or name.startswith(f"{x}.") for x in NOT_LOADED[function])}
    assert unwanted == set()
