"""Read an upload again with the stack's current settings, without changing a byte of it.

For a file rejected because of a setting (Currencies, KnownAccounts, MaxInvalidShare, a column
mapping ...): fix the setting first, then run this. The object is copied onto itself with a metadata
stamp (S3 CopyObject, MetadataDirective=REPLACE): S3 emits a new ObjectCreated event for the same
bytes and the splitter reads the rejected file again. A file that is not `rejected` is refused (there
is nothing to reprocess: `credits-replay` sends a month again), unless --force: a file the splitter
never finished (e.g. after a crash), or an export's manifest whose parts changed since it was read. A file
the splitter finished reading is refused even then: a copy of it is a duplicate, and nothing is read
again. Exit status: 0 requested, 1 refused, 2 when it cannot run.
"""

import argparse
import shlex
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from botocore.exceptions import ClientError

from credits_pipeline.adapters.s3 import REPROCESSED_AT, UPLOADED_AT
from credits_pipeline.domain.exports import export_key
from credits_pipeline.domain.identity import report_key, s3_event_time
from credits_pipeline.domain.report import utc_now
from credits_pipeline.services.splitter import STATUS_TAG
from operator_commands.cli import Target, command_parser, open_stack, run
from operator_commands.errors import EXIT_OK, EXIT_PROBLEM, CommandError
from operator_commands.months import file_location, file_sha256, object_missing, records, upload_tags
from operator_commands.text import outcome

PROG = "credits-reprocess"
EXAMPLES = (
    "credits-reprocess --key incoming/credits-2026-01.csv",
    "credits-reprocess --key s3://my-credits-bucket/incoming/credits-2026-01.csv --force",
    "python scripts/reprocess.py --key incoming/credits-2026-01.csv --stack-name credits-pipeline",
)
# What a REPLACE copy would drop unless given again.
_KEPT_HEADERS = ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage", "ContentType")


def parser() -> argparse.ArgumentParser:
    parser = command_parser(PROG, __doc__.split("\n\n")[0] if __doc__ else "", EXAMPLES)
    parser.add_argument("--key", required=True, help="the upload's key in the stack's bucket, or s3://bucket/key")
    parser.add_argument(
        "--force", action="store_true", help="copy a file the splitter never finished, or an export's manifest"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    return run(parser(), reprocess, argv)


def reprocess(args: argparse.Namespace) -> int:
    target = open_stack(args)
    bucket, key = _where(target, args.key)
    where = f"s3://{bucket}/{key}"
    s3 = target.session.client("s3")
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        missing = object_missing(error, bucket, key)
        if missing is None:
            raise
        raise missing from error
    tags = upload_tags(target, bucket, key)
    sha256 = file_sha256(target, bucket, key, tags=tags)
    report = records(target).load(sha256)
    report_at = f"s3://{bucket}/{report_key(sha256)}"
    if report is None and not args.force:
        raise CommandError(
            f"{where} has no record: the splitter never finished reading it; to read it anyway: --force",
            EXIT_PROBLEM,
        )
    # An export's manifest is known by its parts (parts changed since it was read are a new delivery); any other
    # upload the splitter finished reading (it tags the version last) comes back a duplicate of itself: nothing is
    # read. The copy below carries no status tag, so a copy whose reading never finished has none.
    export = export_key(key) is not None
    read_through = not export and STATUS_TAG in tags
    if report is not None and report.status != "rejected" and (not args.force or read_through):
        raise CommandError(
            f"{where} is {outcome(report)}, not rejected: nothing to reprocess (the splitter would take a copy as "
            f"a duplicate and read nothing again; {report_at}); to send a month again: credits-replay --month "
            f"YYYY-MM; to change what was sent, upload a corrected file under {target.stack.incoming_prefix}",
            EXIT_PROBLEM,
        )
    extra: dict[str, Any] = {name: head[name] for name in _KEPT_HEADERS if head.get(name)}  # type: ignore[literal-required]
    if head.get("ServerSideEncryption") == "aws:kms" and head.get("SSEKMSKeyId"):
        extra.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=head["SSEKMSKeyId"])
    # The managed copy: one CopyObject, or a multipart copy for objects over 5 GB.
    s3.copy(
        {"Bucket": bucket, "Key": key},
        bucket,
        key,
        ExtraArgs={
            "MetadataDirective": "REPLACE",
            "Metadata": _stamped(head),
            # The earlier version's reading is not this copy's: its status tag stays behind.
            "TaggingDirective": "REPLACE",
            "Tagging": urlencode({name: value for name, value in tags.items() if name != STATUS_TAG}),
            **extra,
        },
    )
    if export and report is not None and report.status != "rejected":
        print(
            f"{where} copied onto itself: the splitter reads the export again if its parts changed since it was "
            "read; if not, the copy is a duplicate and nothing is read again"
        )
    else:
        print(f"{where} copied onto itself: the splitter reads it again with the current settings")
    print(f"follow it: credits-status --stack-name {target.stack.name}, or its report {report_at}")
    return EXIT_OK


def _stamped(head: Any) -> dict[str, str]:
    """The object's metadata, stamped: when it was reprocessed, and when it was first uploaded (kept from an
    earlier reprocess): the copy is new to S3, not a new month's file to the watchdog."""
    metadata: dict[str, str] = dict(head.get("Metadata", {}))
    # S3 keeps an object's time to the second; its upload's event said the millisecond. The end of that second:
    # the copy is never older than its own first upload (an export's manifest read again would be superseded by
    # its own earlier reading), and still older than a file uploaded in a later second.
    written: datetime = head["LastModified"]
    if not written.microsecond:
        written += timedelta(milliseconds=999)
    metadata.setdefault(UPLOADED_AT, s3_event_time(written))
    # The stamp also makes the copy a change S3 accepts (a copy onto itself must change something).
    return {**metadata, REPROCESSED_AT: utc_now()}


def _where(target: Target, given: str) -> tuple[str, str]:
    bucket, key = file_location(given, target.stack.bucket)
    if bucket != target.stack.bucket:
        raise CommandError(f"the stack {target.stack.name} reads s3://{target.stack.bucket}/, not s3://{bucket}/")
    prefix = target.stack.incoming_prefix
    if not key.startswith(prefix):
        # S3 tells the splitter of no other key: a copy there would be read by nobody.
        here, there = (shlex.quote(f"s3://{bucket}/{name}") for name in (key, prefix + key.rsplit("/", 1)[-1]))
        raise CommandError(
            f"s3://{bucket}/{key} is outside {prefix}, where the splitter reads uploads: "
            f"move it there instead (aws s3 mv {here} {there})"
        )
    return bucket, key
