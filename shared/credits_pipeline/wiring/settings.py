"""Runtime settings from the environment the template sets, validated once at cold start.

Each field is read from the variable of its name in capitals (`IDEMPOTENCY_TABLE`). A plain pydantic
model filled from the environment, not pydantic-settings: that reads .env files, secrets folders and
the command line (argparse), none of which a Lambda has, and cost every cold start about 40 ms.
The splitter's settings are in `wiring.splitter_settings` (they take the parser's defaults, so only
the splitter loads the parser at cold start).
"""

import os
from collections.abc import Mapping
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from credits_pipeline.domain.alerts import DEFAULT_STACK_NAME

# How long pushed months and accepted files stay de-duplicated, unless IDEMPOTENCY_DAYS says otherwise.
DEFAULT_IDEMPOTENCY_DAYS = 400
DEFAULT_CLOUDZERO_BASE_URL = "https://api.cloudzero.com"
# Where uploads are read from, unless INCOMING_PREFIX says otherwise (template.yaml's IncomingPrefix default).
DEFAULT_INCOMING_PREFIX = "incoming/"


class SettingsError(RuntimeError):
    """The function's environment is incomplete or wrong; the message names each variable."""


class Settings(BaseModel):
    """What every function reads; a function's settings add their own fields."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    # Where alerts go (SNS); empty: they are only logged.
    alert_topic_arn: str = ""
    # Named in the commands an alert gives (`--stack-name ...`).
    stack_name: str = DEFAULT_STACK_NAME

    idempotency_table: str = Field(min_length=1)
    idempotency_days: int = Field(default=DEFAULT_IDEMPOTENCY_DAYS, ge=1)


class PusherSettings(Settings):
    dead_letter_queue_url: str = Field(min_length=1)
    cloudzero_base_url: str = Field(default=DEFAULT_CLOUDZERO_BASE_URL, pattern=r"^https?://")
    cloudzero_connection_id: str = Field(min_length=1)
    # Name or ARN of the Secrets Manager secret holding the API key (never the key itself).
    cloudzero_api_key_secret: str = Field(min_length=1)
    # Optional sandbox namespace (`cloudzero-test-key`): data sent with it is purged after an hour.
    cloudzero_test_key: str = ""
    request_timeout_seconds: float = Field(default=30.0, gt=0)
    # Time kept back from the Lambda deadline: no retry starts that could not finish in time.
    deadline_margin_seconds: float = Field(default=5.0, ge=0)
    # The month queue's maxReceiveCount: the delivery that fails for the last time says so in its alert.
    max_receive_count: int = Field(default=5, ge=1)
    notify_success: bool = False


class WatchdogSettings(Settings):
    bucket_name: str = Field(min_length=1)
    incoming_prefix: str = DEFAULT_INCOMING_PREFIX
    # Day of the month by which a credits file is expected; empty: the check is off.
    expect_file_by_day: int | None = Field(default=None, ge=1, le=28)
    export_wait_hours: int = Field(default=24, ge=1)

    @field_validator("expect_file_by_day", mode="before")
    @classmethod
    def _empty_is_off(cls, value: object) -> object:
        return None if value == "" else value


@cache
def watchdog_settings() -> WatchdogSettings:
    return load_settings(WatchdogSettings)


@cache
def pusher_settings() -> PusherSettings:
    return load_settings(PusherSettings)


def load_settings[T: Settings](kind: type[T]) -> T:
    return load_settings_from(kind, None)


def load_settings_from[T: Settings](kind: type[T], variables: Mapping[str, str] | None) -> T:
    """Settings from `variables` (a function's environment, as the template set it), or from this
    process's environment when None. Names are matched in any case; other variables are ignored."""
    source = os.environ if variables is None else variables
    fields = kind.model_fields
    values: dict[str, Any] = {name.lower(): value for name, value in source.items() if name.lower() in fields}
    try:
        return kind.model_validate(values)
    except ValidationError as error:
        problems = "; ".join(
            f"{'/'.join(str(part) for part in item['loc']).upper()}: {item['msg']}" for item in error.errors()
        )
        raise SettingsError(f"{kind.__name__} invalid environment: {problems}") from None
