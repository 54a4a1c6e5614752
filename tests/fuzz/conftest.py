"""The fuzz tier: the handler tier's fixtures (moto's server, the template's stack, cold starts), and a
line of figures at the end of the run, written by the terminal reporter so CI logs show it without `-s`."""

import pytest

# The handler tier's fixtures, shared: the same stack and cold start as tests/integration.
from tests.integration.conftest import cold_start, emulator, stack

__all__ = ["cold_start", "emulator", "stack"]

FIGURES = pytest.StashKey[list[str]]()


@pytest.fixture
def fuzz_figures(request: pytest.FixtureRequest) -> list[str]:
    """Lines a fuzz test wants printed in the run's summary."""
    return request.config.stash.setdefault(FIGURES, [])


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    for line in config.stash.get(FIGURES, []):
        terminalreporter.write_line(line)
