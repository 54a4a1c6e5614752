"""The chaos tier: the whole local pipeline under fault storms; each run prints one line of figures."""

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import pipeline  # noqa: F401 - the same local pipeline fixture as the e2e tier

FIGURES: list[str] = []


@pytest.fixture
def figures() -> Iterator[list[str]]:
    yield FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in FIGURES:
        terminalreporter.write_line(line)
