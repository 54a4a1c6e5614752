"""The run report an operator reads at `reports/<sha256>.json`: what was pushed, skipped and why.

It is also the file's state record (kept in DynamoDB, versioned): one model, one meaning.
"""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from credits_pipeline.domain.credits import CreditFile
from credits_pipeline.domain.messages import FileRef
from credits_pipeline.domain.money import Money
from credits_pipeline.domain.verification import MonthCheck

FileStatus = Literal["pending", "pushed", "partially_failed", "failed", "rejected", "duplicate", "superseded"]
MonthStatus = Literal["pending", "pushed", "failed", "superseded", "unverified"]
UploadOutcome = Literal["accepted", "duplicate", "rejected"]
# A month in one of these was pushed: reading it back from CloudZero has something to record.
READ_BACK_STATUSES: tuple[MonthStatus, ...] = ("pushed", "unverified")


class PushedAgain(Exception):
    """The month was pushed again, or queued to be, since a check read it back: the check is of an earlier push."""


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class AccountDifferenceEntry(BaseModel):
    account_id: str
    sent: Money
    # "NaN" when CloudZero holds a cost that is not a number: recorded as a difference, never refused here.
    held: Annotated[Money, Field(allow_inf_nan=True)]


class MonthReport(BaseModel):
    accounts: int
    total: Money
    status: MonthStatus = "pending"
    drop_id: str | None = None
    error: str | None = None
    # When the month last took a status: the watchdog's clock for a month never pushed. A repeat upload of the
    # file changes the file's record, not this. None in a record written before it was kept.
    since: str | None = None
    attempts: int = 0
    chunks: int = 0
    pushed_at: str | None = None
    batch_key: str = ""
    # Read back from CloudZero after the push: True when it holds exactly what was sent, False when not
    # (status `unverified`, `differences` lists the first accounts), None while not yet read back.
    verified: bool | None = None
    verified_at: str | None = None
    differences: list[AccountDifferenceEntry] = Field(default_factory=list)

    def same_push(self, other: "MonthReport") -> bool:
        """Still the push `other` shows, pushed and not queued again (each push has its own drop id and time)."""
        return self.status in READ_BACK_STATUSES and (self.drop_id, self.pushed_at) == (other.drop_id, other.pushed_at)

    def take(self, status: MonthStatus, error: str | None) -> MonthStatus:
        """Set the month's status and why, from now on; its status before."""
        before, self.status, self.error, self.since = self.status, status, error, utc_now()
        return before


class SkippedEntry(BaseModel):
    line: int
    account_id: str | None
    reason: str


class PartEntry(BaseModel):
    """One part of a multi-file export that made the months."""

    bucket: str
    key: str
    size: int
    sha256: str


class UploadEntry(BaseModel):
    bucket: str
    key: str
    version_id: str | None = None
    event_time: str | None = None
    size: int | None = None
    outcome: UploadOutcome
    recorded_at: str = Field(default_factory=utc_now)


class RunReport(BaseModel):
    """Top-level `status` is the latest event: a duplicate upload shows `duplicate`, a later push `pushed`."""

    status: FileStatus = "pending"
    error: str | None = None
    problems: list[str] = Field(default_factory=list)
    problem_counts: dict[str, int] = Field(default_factory=dict)
    file: FileRef
    amount_column: str = ""
    months: dict[str, MonthReport] = Field(default_factory=dict)
    total: Money = Decimal(0)
    credit_rows: int = 0
    ignored_rows: int = 0
    ignored_by_type: dict[str, int] = Field(default_factory=dict)
    skipped: list[SkippedEntry] = Field(default_factory=list)
    skipped_total: int = 0
    skipped_by_reason: dict[str, int] = Field(default_factory=dict)
    # Account ids the file wrote with fewer than 12 digits, read zero-padded: check them (a dropped digit
    # would credit another account). The first ones listed; `padded_total` counts all.
    padded_ids: list[SkippedEntry] = Field(default_factory=list)
    padded_total: int = 0
    uploads: list[UploadEntry] = Field(default_factory=list)
    # For a multi-file export (filed under its manifest): every part read, in the manifest's order.
    parts: list[PartEntry] = Field(default_factory=list)
    created_at: str = Field(default_factory=utc_now)
    updated_at: str = Field(default_factory=utc_now)
    version: int = 0

    def accept(self, credit_file: "CreditFile", batch_keys: dict[str, str]) -> None:
        """Fill the report from a parsed file: every month pending, every skip listed."""
        self.status, self.error, self.problems, self.problem_counts = "pending", None, [], {}
        self.file = self.file.model_copy(update={"format": credit_file.format_id})
        self.amount_column = credit_file.amount_column
        # A retry of a crashed acceptance keeps what the pusher already did with the same batches.
        previous = self.months
        self.months = {
            month: previous[month]
            if month in previous and previous[month].batch_key == batch_keys[month]
            else MonthReport(
                accounts=credits.accounts, total=credits.total, batch_key=batch_keys[month], since=utc_now()
            )
            for month, credits in credit_file.months.items()
        }
        self.total = credit_file.total
        self.credit_rows = credit_file.credit_rows
        self.ignored_rows = credit_file.ignored_rows
        self.ignored_by_type = dict(credit_file.ignored_by_type)
        self.skipped = [
            SkippedEntry(line=s.line, account_id=s.account_id, reason=s.reason) for s in credit_file.skipped
        ]
        self.skipped_total = credit_file.skipped_total
        self.skipped_by_reason = dict(credit_file.skipped_by_reason)
        self.padded_ids = [
            SkippedEntry(line=line, account_id=account, reason="padded to 12 digits")
            for line, account in credit_file.padded_ids
        ]
        self.padded_total = credit_file.padded_total
        if not all(month.status == "pending" for month in self.months.values()):
            self.settle()

    def reject(self, error: str, problems: list[str], problem_counts: dict[str, int] | None = None) -> None:
        self.status, self.error, self.problems = "rejected", error, problems
        self.problem_counts = dict(problem_counts or {})

    def mark_month(self, month: str, status: MonthStatus, error: str | None) -> MonthStatus:
        """Set a month's status and why, and settle the file's; the month's status before."""
        before = self.months[month].take(status, error)
        self.settle()
        return before

    def settle(self) -> FileStatus:
        """The status the months add up to, once a push changed one of them."""
        # A month CloudZero does not hold as sent needs a person, as a failed one does.
        statuses = {"failed" if m.status == "unverified" else m.status for m in self.months.values()} - {"superseded"}
        if not statuses and self.months:
            self.status = "superseded"  # every month was left to a later upload: nothing of this file was sent
        elif not statuses or statuses == {"pushed"}:
            self.status = "pushed"
        elif "pending" in statuses:
            self.status = "pending" if "failed" not in statuses else "partially_failed"
        elif statuses == {"failed"}:
            self.status = "failed"
        else:
            self.status = "partially_failed"
        failed = sorted(m for m, r in self.months.items() if r.status == "failed")
        unverified = sorted(m for m, r in self.months.items() if r.status == "unverified")
        superseded = sorted(m for m, r in self.months.items() if r.status == "superseded")
        notes = [f"months not pushed: {', '.join(failed)}"] if failed else []
        if unverified:
            notes.append(f"months CloudZero does not hold as sent: {', '.join(unverified)}")
        if superseded:
            notes.append(f"months left to a later upload: {', '.join(superseded)}")
        self.error = "; ".join(notes) or None
        return self.status

    def record_check(self, month: str, check: MonthCheck, *, read: MonthReport | None = None) -> None:
        """What reading a pushed month back from CloudZero found (the pusher's or an operator's check):
        a month held as sent is `pushed` and verified, any other `unverified` with its differences.

        `read`: the month as it was when the check began (an operator's, which a push may overtake): PushedAgain,
        nothing recorded, unless that push is still the month's latest (else an older read would hide the newer
        push's result)."""
        state = self.months[month]
        if read is not None and not state.same_push(read):
            raise PushedAgain(f"{month} was pushed again, or queued to be, since it was read back")
        state.verified, state.verified_at = check.matches, utc_now()
        state.differences = [
            AccountDifferenceEntry(account_id=d.account_id, sent=d.sent, held=d.held) for d in check.differences
        ]
        if check.matches:
            state.take("pushed", None)
        else:
            state.take("unverified", check.summary())
        self.settle()

    @property
    def settled(self) -> bool:
        """No month is still waiting to be pushed."""
        return all(month.status != "pending" for month in self.months.values())
