"""SQS: the FIFO queue of month messages, and its dead-letter queue."""

from typing import TYPE_CHECKING

from credits_pipeline.adapters.aws_clients import aws_client
from credits_pipeline.domain.messages import MonthMessage

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class MonthQueue:
    """Every month of one CloudZero connection shares one message group: pushed one at a time, in order."""

    def __init__(self, queue_url: str, group_id: str, client: "SQSClient | None" = None) -> None:
        self._sqs = client or aws_client("sqs")
        self._url = queue_url
        self._group_id = group_id

    def send(self, message: MonthMessage, deduplication_id: str, reason: str = "") -> str:
        """Queue a month. FIFO de-duplication drops a repeat of `deduplication_id` within 5 minutes."""
        return self.send_raw(message.model_dump_json(), deduplication_id, reason)

    def send_raw(self, body: str, deduplication_id: str, reason: str = "") -> str:
        attributes = {"reason": {"DataType": "String", "StringValue": reason[:1000]}} if reason else {}
        response = self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=body,
            MessageGroupId=self._group_id,
            MessageDeduplicationId=_dedup_id(deduplication_id),
            MessageAttributes=attributes,  # type: ignore[arg-type]
        )
        return response["MessageId"]


def _dedup_id(value: str) -> str:
    # SQS allows 128 characters of [A-Za-z0-9!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~].
    return "".join(char if char.isalnum() or char in "-_.:#" else "_" for char in value)[:128]
