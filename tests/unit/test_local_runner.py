"""The local runner hosts several functions (and stacks) in one process, each with only its own environment."""

import os

import pytest

from local_stack.runner import use_environment


def test_a_hosted_function_does_not_inherit_a_variable_an_earlier_one_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CURRENCIES", "DEAD_LETTER_QUEUE_URL"):
        monkeypatch.delenv(name, raising=False)
    use_environment({"CURRENCIES": "USD,EUR"})  # a stack whose splitter was given Currencies
    use_environment({"DEAD_LETTER_QUEUE_URL": "q"})  # the next function, which leaves it out
    assert "CURRENCIES" not in os.environ
    assert os.environ["DEAD_LETTER_QUEUE_URL"] == "q"
    use_environment({})
    assert "DEAD_LETTER_QUEUE_URL" not in os.environ
