"""Once-per-key on DynamoDB: Powertools Idempotency, with pinned key prefixes and a short in-progress lease.

The key prefix is pinned so that renaming a module or function never silently breaks de-duplication.

An invocation that dies (out of memory, a host failure) leaves its record INPROGRESS until the lock's
expiry. Powertools sets that expiry to the invocation's deadline; Lambda retries an async event after
about a minute, so a splitter killed early would block both retries and lose the file. With a lease,
the lock expires sooner and the retry takes over. That is safe only because every step the action
takes is idempotent (same batches, same report, de-duplicated messages): a takeover while the first
invocation still runs repeats work, never effects.
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

from credits_pipeline.adapters.aws_clients import aws_client
from credits_pipeline.services.ports import REPLAYED, Outcome

# Pinned: the stored idempotency keys must not change when code moves.
SPLITTER_KEY_PREFIX = "splitter.accept_file"
PUSHER_KEY_PREFIX = "pusher.push_month"
WATCHDOG_KEY_PREFIX = "watchdog.alert"


class _LeasedContext:
    """The invocation's context, its remaining time capped at the lease (what Powertools locks for)."""

    def __init__(self, context: LambdaContext, lease_seconds: float) -> None:
        self._context = context
        self._lease_ms = int(lease_seconds * 1000)

    def get_remaining_time_in_millis(self) -> int:
        # Never 0: Powertools would write a lock that has already expired (a dying invocation's last call).
        return max(1000, min(self._context.get_remaining_time_in_millis(), self._lease_ms))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


class PowertoolsOnce:
    def __init__(
        self, table_name: str, key_prefix: str, expiry_seconds: int, in_progress_lease_seconds: float | None = None
    ) -> None:
        self._config = IdempotencyConfig(
            event_key_jmespath="key",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=expiry_seconds,
            response_hook=_mark_replayed,  # type: ignore[arg-type]  # Powertools types it loosely
        )
        # The process's DynamoDB client (the records' too): Powertools' own Session would load botocore's
        # endpoint and DynamoDB models a second time (about 55 ms of every cold start).
        self._persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=aws_client("dynamodb"))
        self._prefix = key_prefix
        self._lease = in_progress_lease_seconds

    def register(self, context: LambdaContext) -> None:
        """Without it, a Lambda that times out leaves an INPROGRESS record that blocks retries."""
        leased = context if self._lease is None else _LeasedContext(context, self._lease)
        self._config.register_lambda_context(leased)  # type: ignore[arg-type]  # duck-typed context

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

    def forget(self, key: str) -> None:
        """Delete the key's record: the next call runs the action again."""
        self._persistence.configure(self._config, key_prefix=self._prefix)
        self._persistence.delete_record({"key": key}, _Forgotten(key))


class _Forgotten(Exception):
    """Why a record is deleted: an operator's re-read of a rejected file (Powertools asks for a reason)."""


def _mark_replayed(response: Any, record: DataRecord) -> Any:
    return {**response, REPLAYED: True} if isinstance(response, dict) else response
