"""The splitter's settings: the parser's limits and defaults, from the environment the template sets."""

from dataclasses import replace
from decimal import Decimal
from functools import cache
from typing import Literal

from pydantic import Field, field_validator

from credits_pipeline.domain.accounts import InvalidAccountId, account_set
from credits_pipeline.domain.cbf import MonthLimit
from credits_pipeline.formats.base import ParseConfig
from credits_pipeline.wiring.settings import DEFAULT_INCOMING_PREFIX, Settings, load_settings

DEFAULT_SPLITTER_LEASE_SECONDS = 45.0
_PARSE_DEFAULTS = ParseConfig()
_MONTH_LIMIT = MonthLimit()


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return frozenset(item.strip() for item in value.replace(";", ",").split(",") if item.strip())
    return value


class SplitterSettings(Settings):
    month_queue_url: str = Field(min_length=1)
    # Every pushed month for one connection shares one FIFO message group: one request in flight.
    cloudzero_connection_id: str = Field(min_length=1)
    incoming_prefix: str = DEFAULT_INCOMING_PREFIX
    known_accounts: frozenset[str] | None = None
    # Defaults are the parser's own, so the splitter and the preview command decide alike.
    max_invalid_share: Decimal = Field(default=_PARSE_DEFAULTS.max_invalid_share, ge=0, le=1)
    currencies: frozenset[str] = _PARSE_DEFAULTS.currencies
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
    # What CloudZero holds per month and stream; a month beyond it rejects the file before anything is sent.
    cloudzero_month_max_rows: int = Field(default=_MONTH_LIMIT.rows, gt=0)
    cloudzero_month_max_bytes: int = Field(default=_MONTH_LIMIT.bytes, gt=0)

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

    @property
    def month_limit(self) -> MonthLimit:
        return MonthLimit(rows=self.cloudzero_month_max_rows, bytes=self.cloudzero_month_max_bytes)

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


@cache
def splitter_settings() -> SplitterSettings:
    return load_settings(SplitterSettings)
