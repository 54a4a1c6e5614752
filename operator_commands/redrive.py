"""Move every month from the dead-letter queue back to the month queue, once the cause is fixed.

After a CloudZero outage, a refused or rotated API key (store the new one first), or a month CloudZero
refused once its cause is fixed. Months already pushed are skipped by the pusher's idempotency record;
the others are pushed once. `native` is SQS's StartMessageMoveTask (the console's "DLQ redrive");
`copy` receives, re-sends and deletes, keeping each message's group and attributes (moto, and accounts
without the native API). Exit status: 0 moved (or nothing to move), 1 when a copy leaves messages SQS
still counts in the DLQ (run it again in a minute) or when the DLQ was empty while month messages are in
flight (a month whose last retry failed reaches the DLQ only when its visibility timeout ends: run it again
then), 2 when it cannot run.
"""

import argparse
import sys
import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from operator_commands.cli import command_parser, open_stack, run
from operator_commands.errors import EXIT_OK, EXIT_PROBLEM, CommandError, explain
from operator_commands.queues import QueueCounts, queue_counts

PROG = "credits-redrive"
EXAMPLES = (
    "credits-redrive",
    "credits-redrive --method copy --stack-name credits-pipeline --region eu-west-1",
    "python scripts/redrive.py --stack-name credits-pipeline --profile ops",
)

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


@dataclass(frozen=True)
class RedriveResult:
    method: str
    moved: int  # copy: messages moved; native: messages in the DLQ when SQS's move task started
    task_handle: str | None = None
    # copy: messages SQS still counts in the DLQ after it (in flight from an interrupted run, or new)
    left: int = 0
    # Nothing was in the DLQ: the month queue's counts (a month whose last retry failed is still in flight there).
    month_queue: QueueCounts | None = None

    @property
    def on_the_way(self) -> int:
        return self.month_queue.in_flight if self.month_queue else 0


def redrive(
    dlq_url: str,
    dlq_arn: str,
    queue_url: str,
    queue_arn: str,
    method: str = "auto",
    *,
    session: boto3.Session | None = None,
) -> RedriveResult:
    session = session or boto3.Session()
    sqs = session.client("sqs")
    if method in ("auto", "native"):
        # One try: if the native API fails, the copy below does the same job.
        native = session.client("sqs", config=Config(retries={"max_attempts": 1})) if method == "auto" else sqs
        try:
            task = native.start_message_move_task(SourceArn=dlq_arn, DestinationArn=queue_arn)
            native_result = RedriveResult("native", queue_counts(sqs, dlq_url).waiting, task["TaskHandle"])
            return _on_the_way(sqs, queue_url, native_result)
        except ClientError as error:
            if method == "native":
                raise CommandError(
                    f"SQS's native redrive (StartMessageMoveTask) failed: {explain(error)}; "
                    "run with --method copy, which moves the messages itself"
                ) from None
            print(
                f"native redrive unavailable ({error.response['Error'].get('Code')}): copying instead", file=sys.stderr
            )
    moved = _copy(sqs, dlq_url, queue_url)
    # An empty receive is not an empty DLQ: a FIFO queue gives nothing of a message group while one of its
    # messages is in flight (a run interrupted within the last minute).
    return _on_the_way(sqs, queue_url, RedriveResult("copy", moved, left=queue_counts(sqs, dlq_url).held))


def _on_the_way(sqs: "SQSClient", queue_url: str, result: RedriveResult) -> RedriveResult:
    """With nothing to move, the month queue's messages in flight: a redrive run on the alert of a month's last
    failed retry finds the DLQ empty, its month still on the way there."""
    if result.moved or result.left:
        return result
    return replace(result, month_queue=queue_counts(sqs, queue_url))


def _copy(sqs: "SQSClient", dlq_url: str, queue_url: str) -> int:
    moved = 0
    while True:
        messages = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=10,
            AttributeNames=["MessageGroupId"],
            MessageAttributeNames=["All"],
            VisibilityTimeout=60,
        ).get("Messages", [])
        if not messages:
            return moved
        for message in messages:
            extra: dict[str, Any] = {}
            group = message.get("Attributes", {}).get("MessageGroupId")
            if group:
                # A fresh de-duplication id: the original one may still be inside SQS's 5-minute window.
                extra = {"MessageGroupId": group, "MessageDeduplicationId": f"redrive-{uuid.uuid4().hex}"}
            if message.get("MessageAttributes"):
                extra["MessageAttributes"] = message["MessageAttributes"]
            sqs.send_message(QueueUrl=queue_url, MessageBody=message["Body"], **extra)
            # Deleted only once the copy is queued: an interruption may duplicate a month, never lose one.
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1


def parser() -> argparse.ArgumentParser:
    parser = command_parser(PROG, __doc__.split("\n\n")[0] if __doc__ else "", EXAMPLES)
    parser.add_argument("--method", choices=["auto", "native", "copy"], default="auto")
    return parser


def main(argv: list[str] | None = None) -> int:
    return run(parser(), redrive_command, argv)


def redrive_command(args: argparse.Namespace) -> int:
    target = open_stack(args)
    stack = target.stack
    dlq = stack.output("DeadLetterQueueUrl")
    result = redrive(
        dlq,
        stack.output("DeadLetterQueueArn"),
        stack.output("MonthQueueUrl"),
        stack.output("MonthQueueArn"),
        args.method,
        session=target.session,
    )
    print(summary(result, dlq.rsplit("/", 1)[-1]))
    if result.moved:
        print(f"follow them: credits-status --stack-name {stack.name} (reports in s3://{stack.bucket}/reports/)")
    return EXIT_PROBLEM if result.left or result.on_the_way else EXIT_OK


def summary(result: RedriveResult, dlq_name: str) -> str:
    """What the redrive did: a copy has moved the messages; SQS's move task has only started moving them."""
    if result.method == "native":
        return (
            f"redrive started (SQS move task {result.task_handle}): {result.moved} month message(s) in {dlq_name} "
            "are moving back to the month queue in the background; `aws sqs list-message-move-tasks "
            "--source-arn <the DLQ's ARN>` shows its progress"
        ) + _on_the_way_note(result)
    done = f"redrive by copy: {result.moved} month message(s) moved back to the month queue from {dlq_name}"
    if result.left:
        done += (
            f"; SQS still counts {result.left} in it (in flight from a run interrupted in the last minute, or "
            "new): run this again in a minute"
        )
    return done + _on_the_way_note(result)


def _on_the_way_note(result: RedriveResult) -> str:
    if not result.month_queue or not result.month_queue.in_flight:
        return ""
    return (
        f"; the month queue has {result.on_the_way} message(s) in flight: {result.month_queue.in_flight_note()}: "
        "run this again after that"
    )
