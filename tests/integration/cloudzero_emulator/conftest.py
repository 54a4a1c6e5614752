"""One emulator per module, reset before each test."""

from collections.abc import Iterator

import pytest

from local_stack.cloudzero import CloudZeroEmulator
from tests.integration.cloudzero_emulator.calls import API_KEY


@pytest.fixture(scope="module")
def running() -> Iterator[CloudZeroEmulator]:
    with CloudZeroEmulator(api_key=API_KEY) as emulator:
        yield emulator


@pytest.fixture
def emulator(running: CloudZeroEmulator) -> CloudZeroEmulator:
    running.reset()
    return running
