"""The composition root: real adapters built once per container from validated settings."""

from functools import cache

from aws_lambda_powertools.utilities.parameters import get_secret

from credits_pipeline.cloudzero import AnyCostClient
from credits_pipeline.file_records import FileRecords
from credits_pipeline.formats import validate_column_mappings
from credits_pipeline.month_queue import MonthQueue
from credits_pipeline.object_store import ObjectStore
from credits_pipeline.powertools_once import PowertoolsOnce
from credits_pipeline.pusher import Pusher
from credits_pipeline.report_book import ReportBook
from credits_pipeline.settings import pusher_settings, splitter_settings
from credits_pipeline.splitter import Splitter

# Pinned: the stored idempotency keys must not change when code moves.
SPLITTER_KEY_PREFIX = "splitter.accept_file"
PUSHER_KEY_PREFIX = "pusher.push_month"
SECRET_MAX_AGE_SECONDS = 24 * 3600


@cache
def splitter() -> Splitter:
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
        once=PowertoolsOnce(settings.idempotency_table, SPLITTER_KEY_PREFIX, settings.idempotency_days * 86400),
        config=settings.parse_config(column_mappings),
    )


@cache
def pusher() -> Pusher:
    settings = pusher_settings()
    objects = ObjectStore()
    records = FileRecords(settings.idempotency_table, settings.idempotency_days)

    # Read once per container, never logged; read again only when CloudZero answers 403.
    def api_key(force: bool = False) -> str:
        return str(get_secret(settings.cloudzero_api_key_secret, max_age=SECRET_MAX_AGE_SECONDS, force_fetch=force))

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
    )


def reset() -> None:
    """Forget the built adapters and settings (a local runner that switches stacks in one process)."""
    splitter.cache_clear()
    pusher.cache_clear()
    splitter_settings.cache_clear()
    pusher_settings.cache_clear()
