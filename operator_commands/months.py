"""A month's truth, as the pipeline keeps it: the month pointer -> the file's report -> the month's batch;
and what CloudZero holds for it, compared with that batch."""

import re
import shlex
from dataclasses import dataclass

from botocore.exceptions import ClientError

from credits_pipeline.adapters.dynamodb import FileRecords
from credits_pipeline.adapters.s3 import ObjectStore, parse_s3_uri
from credits_pipeline.domain.identity import file_identity, report_key
from credits_pipeline.domain.messages import MonthMessage
from credits_pipeline.domain.months import MONTH_PATTERN
from credits_pipeline.domain.report import MonthReport, RunReport
from credits_pipeline.domain.verification import MonthCheck, compare_month
from credits_pipeline.services.month_batches import BatchInvalid, StoredMonth, load_month, read_batch
from credits_pipeline.services.ports import CloudZeroRejected, CloudZeroUnavailable, MonthPointer
from credits_pipeline.services.splitter import SHA_TAG
from credits_pipeline.wiring.settings import DEFAULT_IDEMPOTENCY_DAYS
from operator_commands.cli import Target
from operator_commands.cloudzero import anycost_client, cloudzero_error, time_left
from operator_commands.errors import EXIT_PROBLEM, CommandError
from operator_commands.queues import queue_counts


@dataclass(frozen=True)
class MonthTruth:
    month: str
    pointer: MonthPointer
    report: RunReport
    # What was sent for the month: the stored bodies (schema 2) or the month's batch (schema 1).
    stored: StoredMonth

    @property
    def state(self) -> MonthReport:
        return self.report.months[self.month]

    @property
    def file_uri(self) -> str:
        return f"s3://{self.report.file.bucket}/{self.report.file.key}"

    @property
    def report_uri(self) -> str:
        return f"s3://{self.report.file.bucket}/{report_key(self.report.file.sha256)}"


def records(target: Target) -> FileRecords:
    return FileRecords(
        target.stack.output("IdempotencyTableName"),
        expiry_days=DEFAULT_IDEMPOTENCY_DAYS,
        client=target.session.client("dynamodb"),
    )


def objects(target: Target) -> ObjectStore:
    return ObjectStore(target.session.client("s3"))


def checked_month(month: str) -> str:
    """A month as the commands take it (YYYY-MM); a one-line error for anything else."""
    if not re.fullmatch(MONTH_PATTERN, month):
        raise CommandError(f"not a month: {month!r} (write YYYY-MM, e.g. 2026-01)")
    return month


def file_location(given: str, bucket: str) -> tuple[str, str]:
    """The bucket and key an operator names a file by: `s3://bucket/key`, or a key in the stack's `bucket`."""
    if not given.startswith("s3://"):
        return bucket, given
    try:
        return parse_s3_uri(given)
    except ValueError:
        raise CommandError(f"not a file: {given!r} (write s3://bucket/key, or the key alone)") from None


def month_truth(target: Target, month: str) -> MonthTruth:
    """The file the month was last accepted from, its report and its batch; a one-line error when any is missing."""
    book = records(target)
    pointer = book.month_pointer(checked_month(month))
    if pointer is None:
        raise CommandError(
            f"no accepted file holds {month} in {target.stack.bucket}: upload one under {target.stack.incoming_prefix}",
            EXIT_PROBLEM,
        )
    report = book.load(pointer.sha256)
    if report is None or month not in report.months:
        raise CommandError(f"the record of s3://{pointer.bucket}/{pointer.key} is gone (expired?)", EXIT_PROBLEM)
    state = report.months[month]
    store = objects(target)
    try:
        batch = read_batch(store, report.file.bucket, state.batch_key)
        stored = load_month(store, MonthMessage.pointing_at(batch, report.file.bucket, state.batch_key))
    except BatchInvalid as error:
        raise CommandError(
            f"the batch of {report.file.key} for {month} cannot be read: {error}", EXIT_PROBLEM
        ) from None
    return MonthTruth(month, pointer, report, stored)


class PushUnderway(CommandError):
    """CloudZero is not read while the pusher may be sending: the API allows one request in flight per
    connection, and a chunked month read between its chunks is half a month."""


def _push_underway(target: Target, truth: MonthTruth) -> str | None:
    """Why CloudZero must not be read now, or None: the month waits for its push (the report says so before its
    message is queued), or the month queue holds a message (any month: one connection, one request at a time)."""
    if truth.state.status == "pending":
        return f"a push of {truth.month} is queued or in flight: run again when it is pushed (credits-status shows it)"
    # Waiting, or received and not yet deleted: being pushed or read back, or waiting to be retried.
    counts = queue_counts(target.session.client("sqs"), target.stack.output("MonthQueueUrl"))
    if counts.waiting:
        return (
            f"{counts.held} month message(s) are queued or being pushed, and CloudZero takes one request at a time: "
            "run again when they are pushed (credits-status shows them)"
        )
    if counts.in_flight:
        return (
            f"{counts.in_flight} month message(s) are in flight, and CloudZero takes one request at a time: "
            f"{counts.in_flight_note()}; run again after that"
        )
    return None


def check_in_cloudzero(target: Target, truth: MonthTruth) -> MonthCheck:
    """Read the month back from CloudZero and compare it with the batch that was sent; PushUnderway (nothing read)
    while a push may be in flight."""
    underway = _push_underway(target, truth)
    if underway:
        raise PushUnderway(underway, EXIT_PROBLEM)
    client = anycost_client(target)
    try:
        return compare_month(truth.stored.sent, lambda: client.month_rows(truth.month, time_left()))
    except (CloudZeroRejected, CloudZeroUnavailable) as error:
        raise cloudzero_error(error, target) from error


def file_sha256(
    target: Target, bucket: str, key: str, version_id: str | None = None, *, tags: dict[str, str] | None = None
) -> str:
    """An upload's identity (its latest version, or `version_id`): the splitter's tag when it got that far (an
    export's manifest is known by its parts too, not its bytes alone), else worked out from the bytes and key
    as the splitter does. `tags`: the upload's tags, when the caller has read them already."""
    tags = upload_tags(target, bucket, key, version_id) if tags is None else tags
    if tags.get(SHA_TAG):
        return tags[SHA_TAG]
    download = objects(target).download(bucket, key, version_id)
    download.close()
    return file_identity(download.sha256, key)


def upload_tags(target: Target, bucket: str, key: str, version_id: str | None = None) -> dict[str, str]:
    """The tags of an upload (its latest version, or `version_id`): the splitter's identity and status among them."""
    s3 = target.session.client("s3")
    try:
        tagging = (
            s3.get_object_tagging(Bucket=bucket, Key=key, VersionId=version_id)
            if version_id
            else s3.get_object_tagging(Bucket=bucket, Key=key)
        )
    except ClientError as error:
        missing = object_missing(error, bucket, key, version_id)
        if missing is None:
            raise
        raise missing from error
    return {tag["Key"]: tag["Value"] for tag in tagging["TagSet"]}


def object_missing(error: ClientError, bucket: str, key: str, version_id: str | None = None) -> CommandError | None:
    """S3's "no such key" or "no such version" as one line with the command that lists what is there; None for
    any other error."""
    code = error.response.get("Error", {}).get("Code")
    # A version id S3 cannot parse is InvalidArgument; one it can but does not hold, NoSuchVersion.
    if version_id and code in ("NoSuchVersion", "InvalidArgument"):
        return CommandError(
            f"s3://{bucket}/{key} has no version {version_id}: list its versions with "
            f"aws s3api list-object-versions --bucket {bucket} --prefix {shlex.quote(key)}"
        )
    if code in ("404", "NoSuchKey", "NotFound"):
        folder = key.rpartition("/")[0]
        listing = shlex.quote(f"s3://{bucket}/{folder}/" if folder else f"s3://{bucket}/")
        return CommandError(f"no object s3://{bucket}/{key}: check the key (aws s3 ls {listing})")
    return None
