"""Scheduled check (a month with no file) and the splitter's failure destination (a file it gave up on)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from credits_pipeline.services.observability import logger
from credits_pipeline.wiring.watchdog import build_watchdog

service = build_watchdog()


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    service.once.register(context)
    records = event.get("Records", [])
    for record in records:  # SQS: the splitter's failure queue
        service.splitter_failed(record["body"])
    late = service.check_expected_file() if not records else False
    return {"splitter_failures": len(records), "file_late": late}
