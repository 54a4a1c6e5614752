"""The messages between splitter and pusher: a month's batch (kept in S3) and the pointer to it (SQS).

Both are versioned: a pusher reads only schema versions it knows, and says so when it cannot.
"""

import hashlib
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from credits_pipeline.money_type import Money
from credits_pipeline.months import month_tokens

if TYPE_CHECKING:  # a runtime import closes the cycle normalise -> formats -> normalise
    from credits_pipeline.normalise import MonthCredits

MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"  # not \d: pydantic's regex \d matches any Unicode digit
SHA256_PATTERN = r"^[0-9a-f]{64}$"


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
    def from_month_credits(cls, file: FileRef, month_credits: "MonthCredits") -> "MonthBatch":
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
        return f"{self.file.sha256}#{self.month}#{self.replay_id or 'upload'}"


def file_identity(content_sha256: str, key: str) -> str:
    """The hash a file is known by: its bytes' SHA-256, bound to the month its name gives, if any.

    A headerless file takes its month from its name, so the same bytes uploaded as
    `credits-2026-01.csv` and `credits-2026-02.csv` are two months' credits, not a duplicate.
    The same bytes under another name for the same month are a duplicate.
    """
    named = month_tokens(key.rsplit("/", 1)[-1])
    if not named:
        return content_sha256
    return hashlib.sha256(f"{content_sha256}|{','.join(named)}".encode()).hexdigest()


def batch_key(sha256: str, month: str) -> str:
    return f"batches/{sha256}/{month}.json"


def report_key(sha256: str) -> str:
    return f"reports/{sha256}.json"
