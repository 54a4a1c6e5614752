"""The splitter with its real adapters: S3, SQS, DynamoDB and Powertools Idempotency."""

from functools import cache

from credits_pipeline.adapters.dynamodb import FileRecords
from credits_pipeline.adapters.idempotency import SPLITTER_KEY_PREFIX, PowertoolsOnce
from credits_pipeline.adapters.s3 import ObjectStore
from credits_pipeline.adapters.sns import SnsNotifier
from credits_pipeline.adapters.sqs import MonthQueue
from credits_pipeline.domain.alerts import OperatorContext
from credits_pipeline.formats import validate_column_mappings
from credits_pipeline.services.report_book import ReportBook
from credits_pipeline.services.splitter import Splitter
from credits_pipeline.wiring.splitter_settings import splitter_settings


@cache
def build_splitter() -> Splitter:
    settings = splitter_settings()
    objects = ObjectStore()
    records = FileRecords(settings.idempotency_table, settings.idempotency_days)
    # A bad mapping fails the cold start with the mapping's name and field, before any file is touched.
    column_mappings = (
        validate_column_mappings(objects.load_json(settings.column_mappings_uri))
        if settings.column_mappings_uri
        else ()
    )
    return Splitter(
        objects=objects,
        records=records,
        reports=ReportBook(records, objects),
        queue=MonthQueue(settings.month_queue_url, group_id=settings.cloudzero_connection_id),
        once=PowertoolsOnce(
            settings.idempotency_table,
            SPLITTER_KEY_PREFIX,
            settings.idempotency_days * 86400,
            in_progress_lease_seconds=settings.in_progress_lease_seconds,
        ),
        config=settings.parse_config(column_mappings),
        incoming_prefix=settings.incoming_prefix,
        notifier=SnsNotifier(settings.alert_topic_arn),
        operator=OperatorContext(stack_name=settings.stack_name),
        month_limit=settings.month_limit,
    )
