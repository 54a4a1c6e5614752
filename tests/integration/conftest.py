"""Fixtures for the handler tiers: the template's stack in moto's server, the CloudZero emulator, cold starts."""

import uuid
from collections.abc import Callable, Iterator

import boto3
import pytest

from credits_pipeline import wiring
from local_stack.cloudzero import CloudZeroEmulator
from local_stack.provision import StackOutputs, provision_stack
from local_stack.runner import REPO, load_handler
from tests.lambda_events import API_KEY, CONNECTION, SETTINGS_VARIABLES, Handler


@pytest.fixture
def emulator() -> Iterator[CloudZeroEmulator]:
    with CloudZeroEmulator(api_key=API_KEY) as running:
        yield running


@pytest.fixture
def stack(aws_endpoint: str, emulator: CloudZeroEmulator) -> Iterator[StackOutputs]:
    outputs = provision_stack(
        f"it-{uuid.uuid4().hex[:8]}", {"CloudZeroBaseUrl": emulator.base_url, "CloudZeroConnectionId": CONNECTION}
    )
    boto3.client("secretsmanager").put_secret_value(SecretId=outputs.api_key_secret_arn, SecretString=API_KEY)
    yield outputs
    wiring.reset()  # later tests must not find adapters built for this stack


@pytest.fixture
def cold_start(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Handler]:
    """Import functions/<name>/app.py as a fresh container would, with exactly `environment` set."""

    def start(name: str, environment: dict[str, str]) -> Handler:
        for variable in SETTINGS_VARIABLES:
            monkeypatch.delenv(variable, raising=False)
        for variable, value in environment.items():
            monkeypatch.setenv(variable, value)
        wiring.reset()
        return load_handler(REPO / "functions" / name / "app.py", f"it_{name}_app_{uuid.uuid4().hex}")

    return start
