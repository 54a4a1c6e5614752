"""What a person is told when the pipeline needs them: one readable message, with the command that fixes it.

Each alert names the file, the month(s), the reason in one sentence, where the report is, and the exact
command to run. The commands are the project's operator scripts, pointed at the stack by name.
"""

import shlex
from dataclasses import dataclass, field
from typing import Literal

from credits_pipeline.domain.text import safe_text

AlertKind = Literal[
    "file_rejected",
    "month_failed",
    "month_dead_lettered",
    "month_unverified",
    "month_not_read_back",
    "api_key_refused",
    "file_pushed",
    "export_incomplete",
    "no_file_yet",
    "splitter_crashed",
    "batch_invalid",
    "message_unreadable",
    "month_stuck",
]
SUBJECT_CHARS = 99  # SNS refuses a subject of 100 characters or more ("less than 100", Publish's reference)
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


def file_rejected(file: str, reason: str, report: str, context: OperatorContext, *, key: str, incoming: str) -> Alert:
    """`incoming`: s3://bucket/prefix, where an upload is read (the stack's IncomingPrefix)."""
    return Alert(
        kind="file_rejected",
        title="a credits file was rejected; nothing was sent to CloudZero",
        file=file,
        reason=reason,
        report=report,
        fix=(
            f"correct the file and upload it again under {incoming}; if a setting caused it (Currencies, "
            "KnownAccounts, MaxInvalidShare, ...), change the stack parameter, then re-read this upload: "
            + _ops(context, f"python scripts/reprocess.py --key {shlex.quote(key)}")
        ),
    )


@dataclass(frozen=True)
class MonthProblem:
    """One month of one file that needs a person: where it came from, why, and its report."""

    file: str
    month: str
    reason: str
    report: str


def _month_alert(kind: AlertKind, title: str, problem: MonthProblem, fix: str) -> Alert:
    return Alert(kind, title, problem.file, problem.reason, fix, [problem.month], problem.report)


def month_failed(problem: MonthProblem, context: OperatorContext) -> Alert:
    title = f"{problem.month} was refused by CloudZero and waits in the dead-letter queue"
    fix = "fix what CloudZero names, then send the month again: " + _ops(context, "python scripts/redrive.py")
    return _month_alert("month_failed", title, problem, fix)


def restore_batch(bucket: str, batch_key: str) -> str:
    """How to bring back a month's stored batch that was deleted or overwritten."""
    prefix = batch_key.removesuffix(".json")
    return (
        f"restore it from the bucket's versions (aws s3api list-object-versions --bucket {bucket} --prefix {prefix}; "
        "delete the delete marker, or copy the last good version back)"
    )


def batch_invalid(
    problem: MonthProblem, context: OperatorContext, *, bucket: str, batch_key: str, cloudzero_called: bool = False
) -> Alert:
    """The month's stored batch (our own copy of its bodies) is missing or not what its message says.
    `cloudzero_called`: a body went bad after the first were sent (the reason says what CloudZero holds)."""
    held = (
        "CloudZero holds part of the month (see why) until it is sent again whole."
        if cloudzero_called
        else "CloudZero was not called and holds what it held."
    )
    fix = (
        held
        + " If the batch was deleted or overwritten, "
        + restore_batch(bucket, batch_key)
        + "; if a deploy changed the functions, deploy the splitter and the pusher from one version. Then: "
        + _ops(context, "python scripts/redrive.py")
    )
    title = f"{problem.month} was not sent: its stored batch is missing or not what its message says"
    return _month_alert("batch_invalid", title, problem, fix)


def message_unreadable(reason: str, excerpt: str, context: OperatorContext) -> Alert:
    """A month message the pusher cannot read: moved to the DLQ as it came, nothing sent."""
    return Alert(
        kind="message_unreadable",
        title="a month message the pusher cannot read waits in the dead-letter queue; nothing was sent",
        file=excerpt,
        reason=reason,
        fix=(
            "a splitter and a pusher of different versions? deploy both from one version, then "
            + _ops(context, "python scripts/redrive.py")
            + "; a message written by hand: fix it, or delete it from the dead-letter queue"
        ),
    )


def month_stuck(problem: MonthProblem, context: OperatorContext, *, hours: int, in_dlq: bool) -> Alert:
    """A month of the file that is its truth, not pushed `hours` after the file's record last changed."""
    replay = _ops(context, f"python scripts/replay.py --month {problem.month}")
    if in_dlq:
        title = f"{problem.month} has not reached CloudZero for {hours} hours; it waits in the dead-letter queue"
        fix = (
            "fix the cause named below, then: "
            + _ops(context, "python scripts/redrive.py")
            + " (the queue keeps a message 14 days; after that, or if it is gone: "
            + replay
            + ")"
        )
    else:
        title = f"{problem.month} was accepted {hours} or more hours ago and never pushed to CloudZero"
        fix = (
            "its month message is gone (a queue purged?) or the pusher does not run: check the pusher's logs "
            "and that its queue trigger is enabled, then send the month: " + replay
        )
    return _month_alert("month_stuck", title, problem, fix)


def month_dead_lettered(problem: MonthProblem, context: OperatorContext) -> Alert:
    title = f"{problem.month} could not reach CloudZero after every retry and goes to the dead-letter queue"
    fix = (
        "it reaches the dead-letter queue when the month queue's visibility timeout ends (minutes after this "
        "alert); once CloudZero answers again: "
        + _ops(context, "python scripts/redrive.py")
        + " (it says so when the month is still on its way: then run it again later)"
    )
    return _month_alert("month_dead_lettered", title, problem, fix)


def api_key_refused(problem: MonthProblem, context: OperatorContext) -> Alert:
    secret = context.api_key_secret or "<ApiKeySecretArn output>"
    fix = (
        f"store a valid key: aws secretsmanager put-secret-value --secret-id {secret} --secret-string <key>; "
        "then " + _ops(context, "python scripts/redrive.py")
    )
    return _month_alert("api_key_refused", "CloudZero refused the API key (403); months wait in the DLQ", problem, fix)


def month_unverified(problem: MonthProblem, context: OperatorContext) -> Alert:
    fix = (
        "check again: "
        + _ops(context, f"python scripts/verify.py --month {problem.month}")
        + "; send the month again from its file: "
        + _ops(context, f"python scripts/replay.py --month {problem.month}")
    )
    return _month_alert("month_unverified", f"CloudZero does not hold {problem.month} as it was sent", problem, fix)


def month_not_read_back(problem: MonthProblem, context: OperatorContext) -> Alert:
    fix = (
        "once its message has left the month queue (when the queue's visibility timeout ends, minutes after this "
        "alert: until then the command says so), read it back and record what CloudZero holds: "
        + _ops(context, f"python scripts/verify.py --month {problem.month}")
    )
    title = f"{problem.month} was pushed but could not be read back from CloudZero after every retry"
    return _month_alert("month_not_read_back", title, problem, fix)


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


def splitter_crashed(file: str, key: str, reason: str, context: OperatorContext) -> Alert:
    return Alert(
        kind="splitter_crashed",
        title="the splitter failed on a file three times; it was not read (a fault of ours, not of the file)",
        file=file,
        reason=reason,
        fix=(
            "look up the error in the splitter's logs (CloudWatch, the file's key); once fixed, read it again: "
            + _ops(context, f"python scripts/reprocess.py --key {shlex.quote(key)} --force")
        ),
    )


def no_file_yet(month: str, day: int, incoming: str, context: OperatorContext) -> Alert:
    return Alert(
        kind="no_file_yet",
        title=f"no credits file has arrived this month ({month}) by day {day}",
        file=incoming,
        months=[month],
        reason=(
            f"no file uploaded under {incoming} since {month}-01 was accepted (a rejected file, or a repeat of an "
            "earlier one, is not this month's file); the month's credits are not in CloudZero"
        ),
        fix=f"ask for this month's credits file and upload it: aws s3 cp credits-{month}.csv {incoming}",
    )


ExportWait = Literal["parts", "manifest", "new manifest"]


def export_incomplete(
    manifest: str,
    period: str,
    hours: int,
    files: list[str],
    waiting_for: ExportWait,
    *,
    key: str,
    context: OperatorContext,
) -> Alert:
    """An export that has waited past `hours`: for the parts its manifest names (`files`: those missing), for
    the manifest of the parts in the bucket (`files`: those parts), or for the new manifest of parts rewritten
    since it was read (`files`: the parts). `key`: the manifest's key."""
    shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
    delivery = "check the export's delivery (AWS Data Exports / CUR settings)"
    waited, reason, fix = {
        "parts": (
            "parts its manifest names",
            f"{len(files)} parts are not in the bucket: {shown}",
            f"{delivery}; the month goes as soon as every part is in",
        ),
        "manifest": (
            "their manifest",
            f"{len(files)} parts are in the bucket, their manifest is not: {shown}",
            f"upload the export's manifest to {manifest} (a part is never pushed alone: each would replace the "
            "others); the month goes once the manifest and every part it names are in",
        ),
        "new manifest": (
            "a new manifest",
            f"its parts were rewritten after its manifest was read, and no new manifest followed: {shown}; "
            "CloudZero still holds the month as the manifest last read it",
            f"{delivery}; to read the parts as they are, upload the manifest again, or "
            + _ops(context, f"python scripts/reprocess.py --key {shlex.quote(key)} --force"),
        ),
    }[waiting_for]
    return Alert(
        kind="export_incomplete",
        title=f"the {period} export has waited {hours} hours for {waited}; nothing was pushed",
        file=manifest,
        months=[period],
        reason=reason,
        fix=fix,
    )
