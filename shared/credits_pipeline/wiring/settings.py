"""Runtime settings from the environment the template sets, validated once at cold start."""

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from credits_pipeline.domain.accounts import InvalidAccountId, account_set
from credits_pipeline.domain.alerts import DEFAULT_STACK_NAME
from credits_pipeline.formats.base import ParseConfig

# How long pushed months and accepted files stay de-duplicated, unless IDEMPOTENCY_DAYS says otherwise.
DEFAULT_IDEMPOTENCY_DAYS = 400
DEFAULT_SPLITTER_LEASE_SECONDS = 45.0
DEFAULT_CLOUDZERO_BASE_URL = "https://api.cloudzero.com"
_PARSE_DEFAULTS = ParseConfig()


class SettingsError(RuntimeError):
    """The function's environment is incomplete or wrong; the message names each variable."""


class _Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    # Where alerts go (SNS); empty: they are only logged.
    alert_topic_arn: str = ""
    # Named in the commands an alert gives (`--stack-name ...`).
    stack_name: str = DEFAULT_STACK_NAME

    idempotency_table: str = Field(min_length=1)
    idempotency_days: int = Field(default=DEFAULT_IDEMPOTENCY_DAYS, ge=1)


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return frozenset(item.strip() for item in value.replace(";", ",").split(",") if item.strip())
    return value


class SplitterSettings(_Settings):
    month_queue_url: str = Field(min_length=1)
    # Every pushed month for one connection shares one FIFO message group: one request in flight.
    cloudzero_connection_id: str = Field(min_length=1)
    incoming_prefix: str = "incoming/"
    known_accounts: Annotated[frozenset[str] | None, NoDecode] = None
    # Defaults are the parser's own, so the splitter and the preview command decide alike.
    max_invalid_share: Decimal = Field(default=_PARSE_DEFAULTS.max_invalid_share, ge=0, le=1)
    currencies: Annotated[frozenset[str], NoDecode] = _PARSE_DEFAULTS.currencies
    credit_description: str = _PARSE_DEFAULTS.default_description
    credit_service: str = _PARSE_DEFAULTS.default_service
    # Optional: an s3://bucket/key JSON list of column mappings for hand-made files.
    column_mappings_uri: str = ""
    # How long a file's in-progress lock holds: under a minute, Lambda's first async retry of a crashed
    # invocation, so the retry takes the file over (see adapters.idempotency).
    in_progress_lease_seconds: float = Field(default=DEFAULT_SPLITTER_LEASE_SECONDS, gt=0, lt=60)
    # What an upload may expand to (see formats.base.ArchiveLimits for why the defaults are what they are).
    max_decompressed_bytes: int = Field(default=_PARSE_DEFAULTS.limits.max_decompressed_bytes, gt=0)
    max_compression_ratio: int = Field(default=_PARSE_DEFAULTS.limits.max_compression_ratio, gt=1)
    max_archive_members: int = Field(default=_PARSE_DEFAULTS.limits.max_archive_members, gt=0)
    # `pad` reads a short account id zero-padded (and lists it in the report); `refuse` skips it as invalid.
    account_id_padding: Literal["pad", "refuse"] = "pad" if _PARSE_DEFAULTS.pad_account_ids else "refuse"

    _split_known = field_validator("known_accounts", mode="before")(_split_list)
    _split_currencies = field_validator("currencies", mode="before")(_split_list)

    @field_validator("known_accounts", mode="after")
    @classmethod
    def _padded_ids_or_any(cls, value: frozenset[str] | None) -> frozenset[str] | None:
        """Ids as the files' ids are read (12 digits, dashes dropped); empty means any account."""
        try:
            return account_set(value)
        except InvalidAccountId as error:
            raise ValueError(str(error)) from None

    def parse_config(self, column_mappings: tuple[dict[str, object], ...] = ()) -> ParseConfig:
        return ParseConfig(
            known_accounts=self.known_accounts,
            max_invalid_share=self.max_invalid_share,
            currencies=self.currencies,
            column_mappings=column_mappings,
            default_description=self.credit_description,
            default_service=self.credit_service,
            pad_account_ids=self.account_id_padding == "pad",
            limits=replace(
                _PARSE_DEFAULTS.limits,
                max_decompressed_bytes=self.max_decompressed_bytes,
                max_compression_ratio=self.max_compression_ratio,
                max_archive_members=self.max_archive_members,
            ),
        )


class PusherSettings(_Settings):
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


class WatchdogSettings(_Settings):
    bucket_name: str = Field(min_length=1)
    incoming_prefix: str = "incoming/"
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
def splitter_settings() -> SplitterSettings:
    return load_settings(SplitterSettings)


@cache
def pusher_settings() -> PusherSettings:
    return load_settings(PusherSettings)


def _without_environment[T: _Settings](kind: type[T]) -> type[T]:
    """The settings class reading only the values it is given, never this process's environment."""

    class Given(kind):  # type: ignore[valid-type,misc]
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings,)

    return Given


def load_settings[T: _Settings](kind: type[T]) -> T:
    return load_settings_from(kind, None)


def load_settings_from[T: _Settings](kind: type[T], variables: Mapping[str, str] | None) -> T:
    """Settings from `variables` (a function's environment, as the template set it), or from this
    process's environment when None."""
    try:
        if variables is None:
            return kind()
        values: dict[str, Any] = {
            name.lower(): value for name, value in variables.items() if name.lower() in kind.model_fields
        }
        return _without_environment(kind)(**values)
    except ValidationError as error:
        problems = "; ".join(
            f"{'/'.join(str(part) for part in item['loc']).upper()}: {item['msg']}" for item in error.errors()
        )
        raise SettingsError(f"{kind.__name__} invalid environment: {problems}") from None
