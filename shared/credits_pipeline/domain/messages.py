"""The messages between splitter and pusher: a month's batch (kept in S3) and the pointer to it (SQS).

All are versioned: a pusher reads only schema versions it knows, and says so when it cannot.
- version 2 (written): a `MonthManifest` listing the month's prepared bodies, each its own object;
- version 1 (read only, for messages queued before version 2): a `MonthBatch` with every account's credit.
"""

from decimal import Decimal
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from credits_pipeline.domain.credits import MonthCredits, exact_sum
from credits_pipeline.domain.identity import SHA256_PATTERN, push_key
from credits_pipeline.domain.money import Money
from credits_pipeline.domain.months import MONTH_PATTERN


class FileRef(BaseModel):
    """The uploaded object these credits came from."""

    model_config = ConfigDict(frozen=True)

    bucket: str
    key: str
    sha256: str = Field(pattern=SHA256_PATTERN)  # file_identity(): what duplicates are detected by
    format: str = ""
    content_sha256: str = ""  # SHA-256 of the bytes alone


class AccountCreditRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    account_id: str = Field(pattern=r"^[0-9]{12}$")
    cost: Money
    description: str
    service: str
    lines: list[int] = Field(default_factory=list)


class MonthBatch(BaseModel):
    """All of one month's credits from one file: what the pusher sends as one billing drop."""

    model_config = ConfigDict(frozen=True)

    schema_version: Literal[1] = 1
    file: FileRef
    month: str = Field(pattern=MONTH_PATTERN)
    credits: list[AccountCreditRow]

    @property
    def total(self) -> Decimal:
        return sum((row.cost for row in self.credits), Decimal(0))

    @property
    def accounts(self) -> int:
        return len({row.account_id for row in self.credits})

    @classmethod
    def from_month_credits(cls, file: FileRef, month_credits: MonthCredits) -> "MonthBatch":
        return cls(
            file=file,
            month=month_credits.month,
            credits=[
                AccountCreditRow(
                    account_id=credit.account_id,
                    cost=credit.cost,
                    description=credit.description,
                    service=credit.service,
                    lines=list(credit.lines),
                )
                for credit in month_credits.credits
            ],
        )


class ChunkRef(BaseModel):
    """One stored body of a month: exactly the bytes to POST, and what they must hash to."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(min_length=1)
    size: int = Field(ge=1)  # bytes
    sha256: str = Field(pattern=SHA256_PATTERN)
    rows: int = Field(ge=1)
    operation: Literal["replace_drop", "sum"]
    total: Money


class MonthManifest(BaseModel):
    """A month's prepared bodies (schema version 2), in the order they are sent; small whatever the month."""

    model_config = ConfigDict(frozen=True)

    schema_version: Literal[2] = 2
    file: FileRef
    month: str = Field(pattern=MONTH_PATTERN)
    accounts: int = Field(ge=1)
    total: Money
    chunks: list[ChunkRef] = Field(min_length=1)

    @model_validator(mode="after")
    def _chunks_make_the_month(self) -> Self:
        operations = [chunk.operation for chunk in self.chunks]
        if operations != ["replace_drop"] + ["sum"] * (len(operations) - 1):
            raise ValueError(f"the chunks must be one replace_drop, then sums: {operations}")
        if exact_sum(chunk.total for chunk in self.chunks) != self.total:
            raise ValueError("the chunks' totals do not add up to the month's total")
        return self


# What `MonthMessage.schema_version` says `batch_key` holds: 1 a MonthBatch, 2 a MonthManifest.
MESSAGE_VERSIONS = (1, 2)


class MonthMessage(BaseModel):
    """The SQS message for one month: a pointer to its batch in S3 (SQS bodies are limited to 256 KB).

    `schema_version` says what the batch is (see MESSAGE_VERSIONS). `total` and `accounts` let the
    pusher check the batch it reads is the batch that was written. `replay_id` is set by
    scripts/replay.py: a replay is a new push, not a redelivery.
    """

    model_config = ConfigDict(frozen=True)

    schema_version: Literal[1, 2] = 2
    file: FileRef
    month: str = Field(pattern=MONTH_PATTERN)
    batch_bucket: str
    batch_key: str
    accounts: int
    total: Money
    replay_id: str | None = None

    @property
    def idempotency_key(self) -> str:
        """What makes a push unique: the file's bytes, the month, and a replay's own id."""
        return push_key(self.file.sha256, self.month, self.replay_id)

    @classmethod
    def pointing_at(
        cls, batch: "MonthBatch | MonthManifest", bucket: str, batch_key: str, replay_id: str | None = None
    ) -> "MonthMessage":
        """The message for a month as stored: its version, file, month, accounts and total are the batch's."""
        return cls(
            schema_version=batch.schema_version,
            file=batch.file,
            month=batch.month,
            batch_bucket=bucket,
            batch_key=batch_key,
            accounts=batch.accounts,
            total=batch.total,
            replay_id=replay_id,
        )
