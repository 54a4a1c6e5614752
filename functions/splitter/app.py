"""S3 ObjectCreated under incoming/ -> split the file into month messages."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from credits_pipeline.adapters.s3_events import uploads
from credits_pipeline.services.observability import logger, metrics
from credits_pipeline.wiring.splitter import build_splitter

# Built at cold start: settings are validated (a clear error names each bad variable) before any event.
service = build_splitter()


@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    service.once.register(context)
    reports = [service.split_upload(upload) for upload in uploads(event)]
    return {"files": [{"sha256": r.file.sha256, "status": r.status} for r in reports if r is not None]}
