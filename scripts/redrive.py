"""Move every month from the dead-letter queue back to the month queue, after an outage is over.

    .venv/bin/python scripts/redrive.py [--stack-name credits-pipeline] [--method auto|native|copy]

Months already pushed are skipped by the pusher's idempotency record; the others are pushed once.
`native` is SQS's StartMessageMoveTask (the console's "DLQ redrive"); `copy` receives, re-sends and
deletes, keeping each message's group and attributes (moto, and accounts without the native API).
"""

import argparse
import sys
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from credits_pipeline.domain.alerts import DEFAULT_STACK_NAME
from stack_outputs import describe_stack

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


@dataclass(frozen=True)
class RedriveResult:
    method: str
    moved: int
    task_handle: str | None = None


def redrive(dlq_url: str, dlq_arn: str, queue_url: str, queue_arn: str, method: str = "auto") -> RedriveResult:
    sqs = boto3.client("sqs")
    if method in ("auto", "native"):
        # One try: if the native API fails, the copy below does the same job.
        native = boto3.client("sqs", config=Config(retries={"max_attempts": 1})) if method == "auto" else sqs
        try:
            task = native.start_message_move_task(SourceArn=dlq_arn, DestinationArn=queue_arn)
            return RedriveResult("native", _visible(sqs, dlq_url), task["TaskHandle"])
        except ClientError as error:
            if method == "native":
                raise
            print(
                f"native redrive unavailable ({error.response['Error'].get('Code')}): copying instead", file=sys.stderr
            )
    return RedriveResult("copy", _copy(sqs, dlq_url, queue_url))


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


def _visible(sqs: "SQSClient", url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack-name", default=DEFAULT_STACK_NAME)
    parser.add_argument("--method", choices=["auto", "native", "copy"], default="auto")
    args = parser.parse_args(argv)
    stack = describe_stack(args.stack_name)
    result = redrive(
        stack.output("DeadLetterQueueUrl"),
        stack.output("DeadLetterQueueArn"),
        stack.output("MonthQueueUrl"),
        stack.output("MonthQueueArn"),
        args.method,
    )
    handle = f" (task {result.task_handle})" if result.task_handle else ""
    print(f"redrive by {result.method}{handle}: {result.moved} month message(s) moved back to the month queue")
    return 0


if __name__ == "__main__":
    sys.exit(main())
