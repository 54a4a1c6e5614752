"""S3 event notifications (ObjectCreated) as the splitter's uploads.

Read from the event's documented fields directly rather than through Powertools' S3Event: importing
any Powertools data class loads every event class it has (about 15 ms of each cold start).
"""

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus

from credits_pipeline.services.splitter import Upload


def uploads(event: Mapping[str, Any]) -> list[Upload]:
    """One upload per record, in the event's order."""
    return [_upload(record) for record in event["Records"]]


def _upload(record: Mapping[str, Any]) -> Upload:
    stored = record["s3"]["object"]
    return Upload(
        bucket=record["s3"]["bucket"]["name"],
        key=unquote_plus(stored["key"]),  # event keys are URL-encoded: `a+b%C3%BC.csv`
        version_id=stored.get("versionId"),
        size=int(stored["size"]),
        event_time=record["eventTime"],
        sequencer=stored.get("sequencer", ""),
    )
