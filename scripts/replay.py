"""Re-send one month to CloudZero, through the month queue so the one-request-at-a-time rule holds.

    .venv/bin/python scripts/replay.py --month 2026-01            # from the latest accepted file
    .venv/bin/python scripts/replay.py --month 2026-01 --file incoming/credits-2026-01-fixed.csv
    .venv/bin/python scripts/replay.py --month 2026-01 --dry-run  # validate endpoint; writes nothing

A replay is a new push (it is not de-duplicated against the first one); `replace_drop` makes the month
exactly what the file says. `--file` makes that file the month's truth from now on.
"""

import argparse
import sys
import uuid
from dataclasses import dataclass

import boto3

from credits_pipeline.adapters.cloudzero import AnyCostClient
from credits_pipeline.adapters.dynamodb import FileRecords
from credits_pipeline.adapters.s3 import ObjectStore, parse_s3_uri
from credits_pipeline.adapters.sqs import MonthQueue
from credits_pipeline.domain.alerts import DEFAULT_STACK_NAME
from credits_pipeline.domain.cbf import drop_bodies
from credits_pipeline.domain.identity import file_identity
from credits_pipeline.domain.messages import MonthBatch, MonthMessage
from credits_pipeline.domain.money import format_money
from credits_pipeline.domain.report import RunReport
from credits_pipeline.services.report_book import ReportBook
from credits_pipeline.wiring.settings import DEFAULT_CLOUDZERO_BASE_URL, DEFAULT_IDEMPOTENCY_DAYS
from stack_outputs import Stack, describe_stack

DRY_RUN_SECONDS = 60.0


class ReplayError(Exception):
    """The month cannot be replayed as asked; the message tells the operator what to do."""


@dataclass(frozen=True)
class ReplayResult:
    month: str
    file: str
    sha256: str
    accounts: int
    total: str
    replay_id: str | None = None
    valid: bool | None = None
    errors: tuple[str, ...] = ()


def replay_month(stack: Stack, month: str, file: str | None = None, dry_run: bool = False) -> ReplayResult:
    bucket = stack.output("BucketName")
    objects = ObjectStore()
    records = FileRecords(stack.output("IdempotencyTableName"), expiry_days=DEFAULT_IDEMPOTENCY_DAYS)
    report = _source_report(objects, records, bucket, month, file)
    month_report = report.months[month]
    raw = objects.get_json(report.file.bucket, month_report.batch_key)
    if raw is None:
        raise ReplayError(f"the batch {month_report.batch_key} of {report.file.key} is gone")
    batch = MonthBatch.model_validate_json(raw)
    where = f"s3://{report.file.bucket}/{report.file.key}"
    result = ReplayResult(month, where, report.file.sha256, batch.accounts, format_money(batch.total))
    if dry_run:
        return _validate(stack, batch, result)

    replay_id = uuid.uuid4().hex
    if file:
        records.accept_month(month, report.file.sha256, report.file.bucket, report.file.key, "", force=True)

    def queued(current: RunReport) -> None:
        current.months[month].status = "pending"
        current.months[month].error = f"replay {replay_id} queued"
        current.settle()

    ReportBook(records, objects).update(report.file.sha256, queued)
    message = MonthMessage(
        file=report.file,
        month=month,
        batch_bucket=report.file.bucket,
        batch_key=month_report.batch_key,
        accounts=batch.accounts,
        total=batch.total,
        replay_id=replay_id,
    )
    connection = stack.parameters.get("CloudZeroConnectionId", "")
    MonthQueue(stack.output("MonthQueueUrl"), group_id=connection).send(
        message, deduplication_id=f"{report.file.sha256}-{month}-replay-{replay_id}", reason="replay"
    )
    return ReplayResult(month, where, report.file.sha256, batch.accounts, format_money(batch.total), replay_id)


def _source_report(objects: ObjectStore, records: FileRecords, bucket: str, month: str, file: str | None) -> RunReport:
    if file:
        file_bucket, key = parse_s3_uri(file) if file.startswith("s3://") else (bucket, file)
        download = objects.download(file_bucket, key)
        download.close()
        report = records.load(file_identity(download.sha256, key))
        if report is None or report.status == "rejected":
            state = report.status if report else "never uploaded"
            raise ReplayError(
                f"s3://{file_bucket}/{key} was not accepted by the pipeline ({state}): upload it under incoming/"
            )
    else:
        pointer = records.month_pointer(month)
        if pointer is None:
            raise ReplayError(f"no accepted file holds {month}: upload one, or name one with --file")
        report = records.load(pointer.sha256)
        if report is None:
            raise ReplayError(f"the record of {pointer.key} is gone")
    if month not in report.months:
        raise ReplayError(
            f"{report.file.key} holds no credits for {month} (it holds {', '.join(report.months) or 'none'})"
        )
    return report


def _validate(stack: Stack, batch: MonthBatch, result: ReplayResult) -> ReplayResult:
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=stack.output("ApiKeySecretArn"))
    client = AnyCostClient(
        stack.parameters.get("CloudZeroBaseUrl") or DEFAULT_CLOUDZERO_BASE_URL,
        stack.parameters.get("CloudZeroConnectionId", ""),
        secret["SecretString"],
        test_key=stack.parameters.get("CloudZeroTestKey", ""),
    )
    errors: list[str] = []
    for body in drop_bodies(batch):
        validation = client.validate_drop(body, remaining=lambda: DRY_RUN_SECONDS)
        errors.extend(validation.errors)
    return ReplayResult(**{**result.__dict__, "valid": not errors, "errors": tuple(errors)})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--month", required=True, help="YYYY-MM")
    parser.add_argument("--file", help="S3 key in the stack's bucket, or s3://bucket/key (default: latest accepted)")
    parser.add_argument("--dry-run", action="store_true", help="validate with CloudZero; send and write nothing")
    parser.add_argument("--stack-name", default=DEFAULT_STACK_NAME)
    args = parser.parse_args(argv)
    try:
        result = replay_month(describe_stack(args.stack_name), args.month, args.file, args.dry_run)
    except ReplayError as error:
        print(f"replay: {error}", file=sys.stderr)
        return 2
    summary = f"{result.month} from {result.file}: {result.accounts} accounts, total {result.total}"
    if args.dry_run:
        verdict = "valid" if result.valid else "INVALID: " + "; ".join(result.errors)
        print(f"dry run, nothing sent: {summary}: CloudZero says {verdict}")
        return 0 if result.valid else 1
    print(f"replay {result.replay_id} queued: {summary}")
    print(f"follow it in s3://<bucket>/reports/{result.sha256}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
