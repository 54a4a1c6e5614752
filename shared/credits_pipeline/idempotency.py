"""Run an action once per key: the contract, and an in-memory implementation for domain tests.

The real one is Powertools Idempotency on DynamoDB (`powertools_once`).
"""

from collections.abc import Callable
from typing import Any, Protocol

from aws_lambda_powertools.utilities.typing import LambdaContext

Outcome = dict[str, Any]
REPLAYED = "replayed"


class Once(Protocol):
    def register(self, context: LambdaContext) -> None:
        """Tie in-progress records to the invocation's deadline."""
        ...

    def __call__(self, key: str, action: Callable[[], Outcome]) -> Outcome:
        """The action's outcome; a key seen before returns the first outcome with `replayed` set."""
        ...


class InMemoryOnce:
    """The same contract without DynamoDB, for domain tests and previews."""

    def __init__(self) -> None:
        self.outcomes: dict[str, Outcome] = {}

    def register(self, context: LambdaContext) -> None:
        return None

    def __call__(self, key: str, action: Callable[[], Outcome]) -> Outcome:
        if key in self.outcomes:
            return {**self.outcomes[key], REPLAYED: True}
        outcome = action()
        self.outcomes[key] = outcome
        return outcome
