"""What a person is told when the pipeline needs them: one readable message, with the command that fixes it.

Each alert names the file, the month(s), the reason in one sentence, where the report is, and the exact
command to run. The commands are the project's operator scripts, pointed at the stack by name.
"""

from dataclasses import dataclass, field
from typing import Literal

from credits_pipeline.domain.text import safe_text

AlertKind = Literal[
    "file_rejected",
    "month_failed",
    "month_dead_lettered",
    "month_unverified",
    "api_key_refused",
    "file_pushed",
    "export_incomplete",
    "no_file_yet",
]
SUBJECT_CHARS = 100  # SNS's limit for an email subject
# The stack name the operator commands and the local stack use unless told otherwise.
DEFAULT_STACK_NAME = "credits-pipeline"


@dataclass(frozen=True)
class OperatorContext:
    """Names an operator needs in a command: the stack, and the secret holding the API key."""

    stack_name: str = DEFAULT_STACK_NAME
    api_key_secret: str = ""


@dataclass(frozen=True)
class Alert:
    kind: AlertKind
    title: str
    file: str  # s3://bucket/key
    reason: str
    fix: str
    months: list[str] = field(default_factory=list)
    report: str = ""  # s3://bucket/reports/<sha256>.json

    @property
    def subject(self) -> str:
        return safe_text(f"Credits pipeline: {self.title}", SUBJECT_CHARS)

    @property
    def needs_a_person(self) -> bool:
        return self.kind != "file_pushed"

    def text(self) -> str:
        lines = [
            self.title,
            "",
            f"File:   {self.file}",
            *([f"Months: {', '.join(self.months)}"] if self.months else []),
            f"Why:    {safe_text(self.reason, 1000)}",
            *([f"Report: {self.report}"] if self.report else []),
            "",
            "What to do:",
            f"  {self.fix}",
        ]
        return "\n".join(lines)


def _ops(context: OperatorContext, command: str) -> str:
    return f"{command} --stack-name {context.stack_name}"


def file_rejected(file: str, reason: str, report: str, context: OperatorContext, *, key: str) -> Alert:
    return Alert(
        kind="file_rejected",
        title="a credits file was rejected; nothing was sent to CloudZero",
        file=file,
        reason=reason,
        report=report,
        fix=(
            "correct the file and upload it again under incoming/; if a setting caused it (Currencies, "
            "KnownAccounts, MaxInvalidShare, ...), change the stack parameter, then re-read this upload: "
            + _ops(context, f"python scripts/reprocess.py --key {key}")
        ),
    )


def month_failed(file: str, month: str, reason: str, report: str, context: OperatorContext) -> Alert:
    return Alert(
        kind="month_failed",
        title=f"{month} was refused by CloudZero and waits in the dead-letter queue",
        file=file,
        months=[month],
        reason=reason,
        report=report,
        fix="fix what CloudZero names, then send the month again: " + _ops(context, "python scripts/redrive.py"),
    )


def month_dead_lettered(file: str, month: str, reason: str, report: str, context: OperatorContext) -> Alert:
    return Alert(
        kind="month_dead_lettered",
        title=f"{month} could not reach CloudZero after every retry and waits in the dead-letter queue",
        file=file,
        months=[month],
        reason=reason,
        report=report,
        fix="once CloudZero answers again: " + _ops(context, "python scripts/redrive.py"),
    )


def api_key_refused(file: str, month: str, reason: str, report: str, context: OperatorContext) -> Alert:
    secret = context.api_key_secret or "<ApiKeySecretArn output>"
    return Alert(
        kind="api_key_refused",
        title="CloudZero refused the API key (403); months wait in the dead-letter queue",
        file=file,
        months=[month],
        reason=reason,
        report=report,
        fix=(
            f"store a valid key: aws secretsmanager put-secret-value --secret-id {secret} --secret-string <key>; "
            "then " + _ops(context, "python scripts/redrive.py")
        ),
    )


def month_unverified(file: str, month: str, reason: str, report: str, context: OperatorContext) -> Alert:
    return Alert(
        kind="month_unverified",
        title=f"CloudZero does not hold {month} as it was sent",
        file=file,
        months=[month],
        reason=reason,
        report=report,
        fix=(
            "check again: "
            + _ops(context, f"python scripts/verify.py --month {month}")
            + "; send the month again from its file: "
            + _ops(context, f"python scripts/replay.py --month {month}")
        ),
    )


def file_pushed(file: str, months: list[str], summary: str, report: str) -> Alert:
    return Alert(
        kind="file_pushed",
        title="a credits file landed in CloudZero",
        file=file,
        months=months,
        reason=summary,
        report=report,
        fix="nothing to do",
    )
