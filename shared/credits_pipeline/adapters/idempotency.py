"""Once-per-key on DynamoDB: Powertools Idempotency, with pinned key prefixes.

The key prefix is pinned so that renaming a module or function never silently breaks de-duplication.
"""

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from credits_pipeline.services.ports import REPLAYED, Outcome

# Pinned: the stored idempotency keys must not change when code moves.
SPLITTER_KEY_PREFIX = "splitter.accept_file"
PUSHER_KEY_PREFIX = "pusher.push_month"


class PowertoolsOnce:
    def __init__(self, table_name: str, key_prefix: str, expiry_seconds: int) -> None:
        self._config = IdempotencyConfig(
            event_key_jmespath="key",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=expiry_seconds,
            response_hook=_mark_replayed,  # type: ignore[arg-type]  # Powertools types it loosely
        )
        self._persistence = DynamoDBPersistenceLayer(table_name=table_name)
        self._prefix = key_prefix

    def register(self, context: LambdaContext) -> None:
        """Without it, a Lambda that times out leaves an INPROGRESS record that blocks retries."""
        self._config.register_lambda_context(context)

    def __call__(self, key: str, action: Callable[[], Outcome]) -> Outcome:
        def run(request: dict[str, str]) -> Outcome:
            return action()

        once = idempotent_function(
            run,
            data_keyword_argument="request",
            persistence_store=self._persistence,
            config=self._config,
            key_prefix=self._prefix,
        )
        outcome: Outcome = once(request={"key": key})
        return outcome


def _mark_replayed(response: Any, record: DataRecord) -> Any:
    return {**response, REPLAYED: True} if isinstance(response, dict) else response
