"""Send one month to CloudZero again, through the month queue so the one-request-at-a-time rule holds.

A replay is a new push (it is not de-duplicated against the first one); `replace_drop` makes the month
exactly what the file says, and the pusher reads it back again. `--file` makes that file the month's
truth from now on (a wrong file was pushed: name the right one). `--dry-run` asks CloudZero's validate
endpoint and sends nothing. Exit status: 0 queued (or valid), 1 invalid, 2 when it cannot run.
"""

import argparse
import shlex
import uuid
from dataclasses import dataclass, replace

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from credits_pipeline.adapters.dynamodb import FileRecords
from credits_pipeline.adapters.sqs import MonthQueue
from credits_pipeline.domain.alerts import restore_batch
from credits_pipeline.domain.identity import report_key, s3_event_time, upload_order
from credits_pipeline.domain.messages import MonthMessage
from credits_pipeline.domain.money import format_money
from credits_pipeline.domain.report import RunReport
from credits_pipeline.domain.text import safe_text
from credits_pipeline.services.month_batches import BatchInvalid, StoredMonth, load_month, read_batch
from credits_pipeline.services.month_replays import queue_month_again
from credits_pipeline.services.ports import CloudZeroRejected, CloudZeroUnavailable, MonthPointer
from credits_pipeline.services.report_book import ReportBook
from operator_commands.cli import Target, command_parser, open_stack, run
from operator_commands.cloudzero import anycost_client, cloudzero_error, time_left
from operator_commands.errors import EXIT_OK, EXIT_PROBLEM, CommandError, explain
from operator_commands.months import checked_month, file_location, file_sha256, objects, records
from operator_commands.stack import Stack

PROG = "credits-replay"
EXAMPLES = (
    "credits-replay --month 2026-01                 # from the month's latest accepted file",
    "credits-replay --month 2026-01 --file incoming/credits-2026-01-fixed.csv",
    "credits-replay --month 2026-01 --file incoming/credits-2026-01.csv --version-id 3sL4kqtJlcpXroDTDmJ",
    "credits-replay --month 2026-01 --dry-run       # CloudZero's validate endpoint; writes nothing",
    "python scripts/replay.py --month 2026-01 --stack-name credits-pipeline --region eu-west-1",
)


class ReplayError(CommandError):
    """The month cannot be replayed as asked; the message tells the operator what to do."""


@dataclass(frozen=True)
class ReplayResult:
    month: str
    file: str
    sha256: str
    bucket: str
    accounts: int
    total: str
    replay_id: str | None = None
    valid: bool | None = None
    errors: tuple[str, ...] = ()
    # `--file` named the month's truth already (under a key uploaded to again, the latest version is read).
    already_truth: bool = False


def replay_month(
    stack: Stack,
    month: str,
    file: str | None = None,
    dry_run: bool = False,
    *,
    session: boto3.Session | None = None,
    version_id: str | None = None,
) -> ReplayResult:
    target = Target(stack, session or boto3.Session())
    store, book = objects(target), records(target)
    truth = book.month_pointer(checked_month(month))
    report = _source_report(target, book, stack.bucket, month, file, truth=truth, version_id=version_id)
    month_report = report.months[month]
    try:
        batch = read_batch(store, report.file.bucket, month_report.batch_key)
    except BatchInvalid as error:
        restore = restore_batch(report.file.bucket, month_report.batch_key)
        raise ReplayError(
            f"the batch of {report.file.key} cannot be sent again: {error}; if it was deleted or overwritten, "
            f"{restore}, then run this again"
        ) from None
    where = f"s3://{report.file.bucket}/{report.file.key}"
    result = ReplayResult(
        month,
        where,
        report.file.sha256,
        report.file.bucket,
        batch.accounts,
        format_money(batch.total),
        already_truth=bool(file) and truth is not None and truth.sha256 == report.file.sha256,
    )
    replay_id = uuid.uuid4().hex
    # A month stored before prepared bodies (schema 1) is replayed as stored.
    message = MonthMessage.pointing_at(batch, report.file.bucket, month_report.batch_key, replay_id)
    if dry_run:
        try:
            stored = load_month(store, message)
            stored.check()
        except BatchInvalid as error:
            raise ReplayError(f"the batch of {report.file.key} cannot be sent again: {error}") from None
        return _validate(target, stored, result)

    # The truth from now on, by AWS's clock (read before anything is written): an upload made before this replay
    # (its event late, or reprocessed) is older, one made after it is newer, however fast the operator's clock runs.
    try:
        truth_at = upload_order(s3_event_time(book.aws_time(month))) if file else ""
    except (BotoCoreError, ClientError) as error:
        raise ReplayError(
            f"{month} was not queued ({explain(error, region=target.session.region_name)}); nothing was changed: "
            "run the same credits-replay again once AWS takes the call",
            exit_code=EXIT_PROBLEM,
        ) from None
    made_truth: list[bool] = []

    def make_truth() -> None:
        book.accept_month(month, report.file.sha256, report.file.bucket, report.file.key, truth_at, force=True)
        made_truth.append(True)

    queue = MonthQueue(stack.output("MonthQueueUrl"), group_id=stack.connection_id, client=target.session.client("sqs"))
    try:
        queue_month_again(
            ReportBook(book, store),
            queue,
            message,
            queued=f"replay {replay_id} queued",
            not_queued=lambda error: f"replay {replay_id} not queued ({error}): run credits-replay again",
            make_truth=make_truth if file else None,
        )
    except (BotoCoreError, ClientError) as error:
        truth_moved = (
            f"; {report.file.key} is already the month's truth while CloudZero still holds the file before it"
            if made_truth
            else ""
        )
        raise ReplayError(
            f"{month} was not queued ({explain(error, region=target.session.region_name)}){truth_moved}: "
            "run the same credits-replay again once AWS takes the call",
            exit_code=EXIT_PROBLEM,
        ) from None
    return replace(result, replay_id=replay_id)


def _source_report(
    target: Target,
    book: FileRecords,
    bucket: str,
    month: str,
    file: str | None,
    *,
    truth: MonthPointer | None,
    version_id: str | None,
) -> RunReport:
    """The report of the file to replay: `--file`'s, else the month's truth's (`truth`, its pointer as read)."""
    if version_id and not file:
        raise ReplayError("--version-id names a version of --file: give both")
    if file:
        file_bucket, key = file_location(file, bucket)
        report = book.load(file_sha256(target, file_bucket, key, version_id))
        if report is None:
            raise ReplayError(
                f"s3://{file_bucket}/{key} was never read by the pipeline: upload it under "
                f"{target.stack.incoming_prefix}"
            )
        if report.status == "rejected":
            raise ReplayError(
                f"s3://{file_bucket}/{key} was rejected ({safe_text(report.error or '', limit=300)}), so it has "
                "no month to send again: "
                f"correct it and upload it again, or, if a setting rejected it, change the setting and run "
                f"credits-reprocess --key {shlex.quote(key if file_bucket == bucket else f's3://{file_bucket}/{key}')}"
            )
    else:
        if truth is None:
            raise ReplayError(f"no accepted file holds {month}: upload one, or name one with --file")
        report = book.load(truth.sha256)
        if report is None:
            raise ReplayError(f"the record of {truth.key} is gone")
    if month not in report.months:
        raise ReplayError(
            f"{report.file.key} holds no credits for {month} (it holds {', '.join(report.months) or 'none'})"
        )
    return report


def _validate(target: Target, month: StoredMonth, result: ReplayResult) -> ReplayResult:
    client = anycost_client(target)
    remaining = time_left()
    errors: list[str] = []
    try:
        for body in month.bodies():
            errors.extend(client.validate_drop(body, remaining=remaining).errors)
    except (CloudZeroRejected, CloudZeroUnavailable) as error:
        raise cloudzero_error(error, target) from error
    return replace(result, valid=not errors, errors=tuple(errors))


def parser() -> argparse.ArgumentParser:
    parser = command_parser(PROG, __doc__.split("\n\n")[0] if __doc__ else "", EXAMPLES)
    parser.add_argument("--month", required=True, help="YYYY-MM")
    parser.add_argument("--file", help="S3 key in the stack's bucket, or s3://bucket/key (default: latest accepted)")
    parser.add_argument(
        "--version-id", help="the version of --file to replay, when its key was uploaded to again (S3 keeps each)"
    )
    parser.add_argument("--dry-run", action="store_true", help="validate with CloudZero; send and write nothing")
    return parser


def main(argv: list[str] | None = None) -> int:
    return run(parser(), replay, argv)


def replay(args: argparse.Namespace) -> int:
    target = open_stack(args)
    result = replay_month(
        target.stack, args.month, args.file, args.dry_run, session=target.session, version_id=args.version_id
    )
    summary = f"{result.month} from {result.file}: {result.accounts} accounts, total {result.total}"
    if args.dry_run:
        verdict = "valid" if result.valid else "INVALID: " + "; ".join(result.errors)
        print(f"dry run, nothing sent: {summary}: CloudZero says {verdict}")
        return EXIT_OK if result.valid else EXIT_PROBLEM
    print(f"replay {result.replay_id} queued: {summary}")
    if result.already_truth and not args.version_id:
        print(
            f"note: {result.file} is already the month's truth, so this sends it again; to make an earlier upload "
            f"under the same key the truth, name its version: --version-id (aws s3api list-object-versions "
            f"--bucket {result.bucket} --prefix {result.file.removeprefix(f's3://{result.bucket}/')})"
        )
    print(f"follow it in s3://{result.bucket}/{report_key(result.sha256)}")
    return EXIT_OK
