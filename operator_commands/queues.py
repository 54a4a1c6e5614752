"""What SQS counts in a queue, and what a month message in flight in the month queue may be."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


@dataclass(frozen=True)
class QueueCounts:
    waiting: int
    in_flight: int  # received and not yet deleted
    visibility_timeout: int  # seconds a received message stays in flight

    @property
    def held(self) -> int:
        return self.waiting + self.in_flight

    def in_flight_note(self) -> str:
        """What the month queue's messages in flight may be: the pusher at work, or a month whose last retry failed,
        which leaves the queue (for the DLQ) only when its visibility timeout ends."""
        minutes = max(1, -(-self.visibility_timeout // 60))
        return (
            f"months being pushed or read back, or a month whose last retry failed, which SQS moves to the "
            f"dead-letter queue when its visibility timeout ends (within {minutes} minute(s))"
        )


def queue_counts(sqs: "SQSClient", url: str) -> QueueCounts:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "VisibilityTimeout"],
    )["Attributes"]
    return QueueCounts(
        waiting=int(attributes.get("ApproximateNumberOfMessages", "0")),
        in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", "0")),
        visibility_timeout=int(attributes.get("VisibilityTimeout", "0")),
    )
