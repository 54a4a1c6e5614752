"""The messages between splitter and pusher: a month's batch (kept in S3) and the pointer to it (SQS).

Both are versioned: a pusher reads only schema versions it knows, and says so when it cannot.
"""

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from credits_pipeline.domain.credits import MonthCredits
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


class MonthMessage(BaseModel):
    """The SQS message for one month: a pointer to its batch in S3 (SQS bodies are limited to 256 KB).

    `total` and `accounts` let the pusher check the batch it reads is the batch that was written.
    `replay_id` is set by scripts/replay.py: a replay is a new push, not a redelivery.
    """

    model_config = ConfigDict(frozen=True)

    schema_version: Literal[1] = 1
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
