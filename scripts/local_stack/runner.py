"""A local event-source runner that behaves like Lambda's, without Docker.

- Uploads: S3 notifications arrive on a local SQS queue (moto cannot invoke Lambdas); each S3 event is
  given to the splitter as an async invocation: up to 1 + 2 retries, then the event goes to the
  splitter's failure queue, as Lambda's async invoke config does.
- Months: like an SQS event source mapping on the FIFO queue: batch size 1, one worker (so never two
  requests to one CloudZero connection in flight), partial batch responses; successes are deleted,
  failures become visible again after `retry_delay` (Lambda waits for the visibility timeout: locally
  that would be minutes), so the queue's maxReceiveCount moves a month to the DLQ as on AWS.
"""

import importlib.util
import json
import logging
import os
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, TextIO

import boto3

from credits_pipeline import wiring
from credits_pipeline.services.observability import logger

REPO = Path(__file__).resolve().parents[2]
ASYNC_RETRIES = 2


@dataclass
class LocalContext:
    """What Lambda hands a handler: names, memory and the time left."""

    function_name: str
    timeout_seconds: float
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


@dataclass(frozen=True)
class FunctionConfig:
    name: str
    handler_path: Path
    timeout_seconds: float
    environment: Mapping[str, str]
    memory_mb: int = 128


# Variables a hosted function's environment set in this process (any runner, any stack).
_HOSTED_VARIABLES: set[str] = set()


def use_environment(environment: Mapping[str, str]) -> None:
    """Make the process's environment the function's, as Lambda would: a variable that an earlier
    hosted function (or an earlier stack's) set and this one does not is removed, not inherited. A
    template that leaves an optional setting out relies on that to get the setting's default."""
    for name in _HOSTED_VARIABLES - environment.keys():
        os.environ.pop(name, None)
    os.environ.update(environment)
    _HOSTED_VARIABLES.update(environment)


def load_handler(path: Path, module_name: str) -> Callable[[dict[str, Any], Any], Any]:
    """Import functions/<name>/app.py under a unique module name (both files are called app.py)."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec and spec.loader
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handler: Callable[[dict[str, Any], Any], Any] = module.lambda_handler
    return handler


@dataclass
class RunnerStats:
    splitter_invocations: int = 0
    splitter_failures: int = 0
    pusher_invocations: int = 0
    pusher_item_failures: int = 0


class LocalRunner:
    def __init__(
        self,
        *,
        splitter: FunctionConfig,
        pusher: FunctionConfig,
        upload_queue_url: str,
        month_queue_url: str,
        splitter_failure_queue_url: str,
        retry_delay_seconds: int = 0,
        log: TextIO | None = None,
    ) -> None:
        self._sqs = boto3.client("sqs")
        self._splitter_config = splitter
        self._pusher_config = pusher
        self._upload_queue = upload_queue_url
        self._month_queue = month_queue_url
        self._month_queue_arn = self._sqs.get_queue_attributes(QueueUrl=month_queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self._splitter_failures = splitter_failure_queue_url
        self._retry_delay = retry_delay_seconds
        # One process hosts both functions: each sees its own environment while it runs.
        wiring.reset()
        use_environment(splitter.environment)
        self._splitter = load_handler(splitter.handler_path, "local_splitter_app")
        use_environment(pusher.environment)
        self._pusher = load_handler(pusher.handler_path, "local_pusher_app")
        self.stats = RunnerStats()
        # Where the functions' output goes: their log lines, metrics and crash reports.
        self._log = log
        self._restore: Callable[[], object] | None = None
        handler = logger.registered_handler
        if log is not None and isinstance(handler, logging.StreamHandler):
            previous = handler.setStream(log)
            self._restore = lambda: handler.setStream(previous)

    @property
    def upload_queue_url(self) -> str:
        """Where S3's events wait for the splitter (a test may reorder or repeat them there)."""
        return self._upload_queue

    def pump_uploads(self) -> int:
        """Deliver waiting S3 events to the splitter; the number handled."""
        messages = self._sqs.receive_message(QueueUrl=self._upload_queue, MaxNumberOfMessages=10).get("Messages", [])
        for message in messages:
            event = json.loads(message["Body"])
            if event.get("Event") != "s3:TestEvent":  # S3 sends one when notifications are set up
                self._invoke_async(event)
            self._sqs.delete_message(QueueUrl=self._upload_queue, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    def _invoke_async(self, event: dict[str, Any]) -> None:
        for _attempt in range(1 + ASYNC_RETRIES):
            self.stats.splitter_invocations += 1
            try:
                self._with_environment(self._splitter_config, self._splitter, event)
                return
            except Exception:  # Lambda's async retry catches everything too
                self.stats.splitter_failures += 1
                _report_crash(self._splitter_config.name, self._log)
        self._sqs.send_message(QueueUrl=self._splitter_failures, MessageBody=json.dumps(event))

    def pump_months(self, retry_delay: int | None = None) -> int:
        """One batch of one month message to the pusher, as the event source mapping would.

        `retry_delay`: the seconds a failed message stays invisible, this once (as on AWS, where it is the
        queue's visibility timeout); the runner's own delay otherwise."""
        response = self._sqs.receive_message(
            QueueUrl=self._month_queue,
            MaxNumberOfMessages=1,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [sqs_event_record(message, self._month_queue_arn) for message in messages]}
        self.stats.pusher_invocations += 1
        try:
            result = self._with_environment(self._pusher_config, self._pusher, event) or {}
            failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        except Exception:  # a failed invocation fails the whole batch
            _report_crash(self._pusher_config.name, self._log)
            failed = {message["MessageId"] for message in messages}
        for message in messages:
            if message["MessageId"] in failed:
                self.stats.pusher_item_failures += 1
                self._sqs.change_message_visibility(
                    QueueUrl=self._month_queue,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=self._retry_delay if retry_delay is None else retry_delay,
                )
            else:
                self._sqs.delete_message(QueueUrl=self._month_queue, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    def run_until_idle(self, max_seconds: float = 120.0) -> RunnerStats:
        """Pump both queues until nothing is waiting or in flight (or the time is up)."""
        deadline = time.monotonic() + max_seconds
        while time.monotonic() < deadline:
            if self.pump_uploads() + self.pump_months():
                continue
            if self._queues_empty():
                return self.stats
            time.sleep(0.2)
        raise TimeoutError(f"queues still busy after {max_seconds} s: {self.stats}")

    def close(self) -> None:
        """The functions' log lines go where they went before this runner (its log may be closed next)."""
        if self._restore is not None:
            self._restore()
            self._restore = None

    def update_environment(self, function: Literal["splitter", "pusher"], changes: Mapping[str, str]) -> None:
        """What a stack update does to a function's configuration (say `Currencies`): new containers
        start with the new environment. The next invocation cold-starts the handler with it."""
        config = self._splitter_config if function == "splitter" else self._pusher_config
        config = replace(config, environment={**config.environment, **changes})
        use_environment(config.environment)
        wiring.reset()
        if function == "splitter":
            self._splitter_config = config
            self._splitter = load_handler(config.handler_path, f"local_splitter_app_{uuid.uuid4().hex}")
        else:
            self._pusher_config = config
            self._pusher = load_handler(config.handler_path, f"local_pusher_app_{uuid.uuid4().hex}")

    def _queues_empty(self) -> bool:
        for url in (self._upload_queue, self._month_queue):
            attributes = self._sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            if int(attributes["ApproximateNumberOfMessages"]) or int(
                attributes["ApproximateNumberOfMessagesNotVisible"]
            ):
                return False
        return True

    def _with_environment(
        self, config: FunctionConfig, handler: Callable[[dict[str, Any], Any], Any], event: dict[str, Any]
    ) -> Any:
        use_environment(config.environment)
        context = LocalContext(config.name, config.timeout_seconds, memory_limit_in_mb=config.memory_mb)
        if self._log is None:
            return handler(event, context)
        with redirect_stdout(self._log), redirect_stderr(self._log):  # metrics are printed, not logged
            return handler(event, context)


def sqs_event_record(message: Mapping[str, Any], queue_arn: str) -> dict[str, Any]:
    """A received SQS message as Lambda's SQS event source hands it to a function (one `Records` item)."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "dataType": value.get("DataType", "String"),
                "stringListValues": [],
                "binaryListValues": [],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    }


def _report_crash(function_name: str, log: TextIO | None) -> None:
    """What Lambda would write to the function's log when the handler raises."""
    print(f"[{function_name}] invocation failed:\n{traceback.format_exc()}", file=log or sys.stderr)
