"""SNS: alerts to the stack's notification topic (email, Slack through AWS Chatbot, a queue in tests)."""

import json
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from credits_pipeline.adapters.aws_clients import aws_client
from credits_pipeline.domain.alerts import Alert
from credits_pipeline.services.observability import logger, metrics

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient


class SnsNotifier:
    """Publishes each alert once; with no topic configured, the alert is only logged."""

    def __init__(self, topic_arn: str, client: "SNSClient | None" = None) -> None:
        self._topic = topic_arn
        self._client = client

    @property
    def _sns(self) -> "SNSClient | None":
        # Made on the first alert, not at cold start: most invocations alert nobody.
        if self._client is None and self._topic:
            self._client = aws_client("sns")
        return self._client

    def notify(self, alert: Alert) -> bool:
        log = logger.error if alert.needs_a_person else logger.info
        log("alert: " + alert.title, extra={"alert": alert.kind, "file": alert.file, "months": alert.months})
        if self._sns is None:
            return True
        try:
            self._sns.publish(
                TopicArn=self._topic,
                Subject=alert.subject,
                # Plain text for email and queues; AWS Chatbot (an https subscriber) renders its own
                # "custom notification" shape in Slack.
                MessageStructure="json",
                Message=json.dumps({"default": alert.text(), "https": json.dumps(_chatbot(alert))}),
                MessageAttributes={"kind": {"DataType": "String", "StringValue": alert.kind}},
            )
        except (BotoCoreError, ClientError) as error:
            # The alert is in the log line above; a notification outage must not fail the push. The count
            # has an alarm of its own (AlertsNotDeliveredAlarm); the watchdog tells its alerts again.
            logger.error("alert not delivered to the topic", extra={"error": str(error), "alert": alert.kind})
            metrics.add_metric(name="AlertsNotDelivered", unit="Count", value=1)
            return False
        return True


def _chatbot(alert: Alert) -> dict[str, object]:
    """AWS Chatbot's custom notification format."""
    return {
        "version": "1.0",
        "source": "custom",
        "content": {
            "textType": "client-markdown",
            "title": alert.subject,
            "description": alert.text(),
        },
    }
