"""The stack's CloudZero connection, as the pusher uses it: base URL, connection id, test key and the API
key read from the stack's secret."""

import time

from botocore.exceptions import ClientError

from credits_pipeline.adapters.cloudzero import AnyCostClient
from credits_pipeline.services.ports import CloudZeroRejected, CloudZeroUnavailable, Remaining
from credits_pipeline.wiring.settings import DEFAULT_CLOUDZERO_BASE_URL
from operator_commands.cli import Target
from operator_commands.errors import CommandError

# An operator command waits this long for CloudZero, retries included.
REQUEST_SECONDS = 60.0


def time_left(seconds: float = REQUEST_SECONDS) -> Remaining:
    """The client's deadline: retries stop when it runs short."""
    deadline = time.monotonic() + seconds
    return lambda: deadline - time.monotonic()


def cloudzero_error(error: CloudZeroRejected | CloudZeroUnavailable, target: Target) -> CommandError:
    """CloudZero's refusal or silence as one line with what to do."""
    if isinstance(error, CloudZeroRejected) and error.status == 403:
        secret = target.stack.output("ApiKeySecretArn")
        return CommandError(
            f"CloudZero refused the API key (403: {error.message}): store a valid key with "
            f"aws secretsmanager put-secret-value --secret-id {secret} --secret-string <key>"
        )
    if isinstance(error, CloudZeroRejected) and error.status == 404:
        return CommandError(
            f"CloudZero does not know connection {target.stack.connection_id} (404: {error.message}): "
            "check the stack parameter CloudZeroConnectionId"
        )
    if isinstance(error, CloudZeroUnavailable):  # 429, 5xx, no answer: retried until the command's time ran out
        return CommandError(f"CloudZero is unavailable now ({error}): try again in a few minutes")
    return CommandError(f"CloudZero did not answer as expected: {error}")


def api_key(target: Target) -> str:
    secret = target.stack.output("ApiKeySecretArn")
    store = f"aws secretsmanager put-secret-value --secret-id {secret} --secret-string <key>"
    try:
        value = target.session.client("secretsmanager").get_secret_value(SecretId=secret).get("SecretString", "")
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        raise CommandError(f"the API key secret {secret} holds no key yet: {store}") from error
    if not value.strip():
        raise CommandError(f"the API key secret {secret} is empty: {store}")
    return value  # as stored: the pusher sends it as stored


def anycost_client(target: Target) -> AnyCostClient:
    parameters = target.stack.parameters
    return AnyCostClient(
        parameters.get("CloudZeroBaseUrl") or DEFAULT_CLOUDZERO_BASE_URL,
        target.stack.connection_id,
        api_key(target),
        test_key=parameters.get("CloudZeroTestKey", ""),
        request_timeout=20.0,
        deadline_margin=0.0,
    )
