"""S3 ObjectCreated under incoming/ -> split the file into month messages."""

from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.typing import LambdaContext

from credits_pipeline.services.observability import logger, metrics
from credits_pipeline.services.splitter import Upload
from credits_pipeline.wiring.splitter import build_splitter

# Built at cold start: settings are validated (a clear error names each bad variable) before any event.
service = build_splitter()


@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    service.once.register(context)
    reports = [
        service.split_upload(
            Upload(
                bucket=record.s3.bucket.name,
                key=unquote_plus(record.s3.get_object.key),  # event keys are URL-encoded: `a+b%C3%BC.csv`
                version_id=record.s3.get_object.version_id,
                size=record.s3.get_object.size,
                event_time=record.event_time,
                sequencer=record.s3.get_object.get("sequencer", ""),
            )
        )
        for record in S3Event(event).records
    ]
    return {"files": [{"sha256": r.file.sha256, "status": r.status} for r in reports if r is not None]}
