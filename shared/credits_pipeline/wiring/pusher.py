"""The pusher with its real adapters: S3, SQS (DLQ), DynamoDB, Powertools Idempotency and CloudZero."""

from functools import cache

from aws_lambda_powertools.utilities.parameters.secrets import SecretsProvider

from credits_pipeline.adapters.aws_clients import aws_client
from credits_pipeline.adapters.cloudzero import AnyCostClient
from credits_pipeline.adapters.dynamodb import FileRecords
from credits_pipeline.adapters.idempotency import PUSHER_KEY_PREFIX, PowertoolsOnce
from credits_pipeline.adapters.s3 import ObjectStore
from credits_pipeline.adapters.sns import SnsNotifier
from credits_pipeline.adapters.sqs import MonthQueue
from credits_pipeline.domain.alerts import OperatorContext
from credits_pipeline.services.pusher import Pusher
from credits_pipeline.services.report_book import ReportBook
from credits_pipeline.wiring.settings import pusher_settings

SECRET_MAX_AGE_SECONDS = 24 * 3600


@cache
def build_pusher() -> Pusher:
    settings = pusher_settings()
    objects = ObjectStore()
    records = FileRecords(settings.idempotency_table, settings.idempotency_days)

    # A client of the process's session: Powertools' own provider would make a Session of its own and
    # load botocore's data a second time (about 60 ms of every cold start).
    secrets = SecretsProvider(boto3_client=aws_client("secretsmanager"))

    # Read once per container, never logged; read again only when CloudZero answers 403.
    def api_key(force: bool = False) -> str:
        return str(secrets.get(settings.cloudzero_api_key_secret, max_age=SECRET_MAX_AGE_SECONDS, force_fetch=force))

    return Pusher(
        objects=objects,
        records=records,
        reports=ReportBook(records, objects),
        dead_letters=MonthQueue(settings.dead_letter_queue_url, group_id=settings.cloudzero_connection_id),
        once=PowertoolsOnce(settings.idempotency_table, PUSHER_KEY_PREFIX, settings.idempotency_days * 86400),
        cloudzero=AnyCostClient(
            settings.cloudzero_base_url,
            settings.cloudzero_connection_id,
            api_key(),
            test_key=settings.cloudzero_test_key,
            refresh_api_key=lambda: api_key(force=True),
            request_timeout=settings.request_timeout_seconds,
            deadline_margin=settings.deadline_margin_seconds,
        ),
        notifier=SnsNotifier(settings.alert_topic_arn),
        operator=OperatorContext(stack_name=settings.stack_name, api_key_secret=settings.cloudzero_api_key_secret),
        notify_success=settings.notify_success,
        max_receive_count=settings.max_receive_count,
    )
