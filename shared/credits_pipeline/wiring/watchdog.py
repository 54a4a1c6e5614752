"""The watchdog with its real adapters: S3 (uploads), SNS (alerts), DynamoDB (alert once per month)."""

from functools import cache

from credits_pipeline.adapters.dynamodb import FileRecords
from credits_pipeline.adapters.idempotency import WATCHDOG_KEY_PREFIX, PowertoolsOnce
from credits_pipeline.adapters.s3 import ObjectStore
from credits_pipeline.adapters.sns import SnsNotifier
from credits_pipeline.domain.alerts import OperatorContext
from credits_pipeline.services.watchdog import Watchdog
from credits_pipeline.wiring.settings import watchdog_settings


@cache
def build_watchdog() -> Watchdog:
    settings = watchdog_settings()
    return Watchdog(
        objects=ObjectStore(),
        notifier=SnsNotifier(settings.alert_topic_arn),
        once=PowertoolsOnce(settings.idempotency_table, WATCHDOG_KEY_PREFIX, settings.idempotency_days * 86400),
        bucket=settings.bucket_name,
        incoming_prefix=settings.incoming_prefix,
        expect_file_by_day=settings.expect_file_by_day,
        export_wait_hours=settings.export_wait_hours,
        operator=OperatorContext(stack_name=settings.stack_name),
        records=FileRecords(settings.idempotency_table, settings.idempotency_days),
    )
