"""Scheduled checks (a month with no file, an export missing parts) and the splitter's failure destination."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from credits_pipeline.services.observability import logger, metrics
from credits_pipeline.wiring.watchdog import build_watchdog

service = build_watchdog()


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    service.once.register(context)
    records = event.get("Records", [])
    for record in records:  # SQS: the splitter's failure queue
        service.splitter_failed(record["body"])
    if records:
        return {"splitter_failures": len(records)}
    return service.run_checks()
