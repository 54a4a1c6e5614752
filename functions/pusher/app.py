"""SQS month messages -> CloudZero billing drops, with partial batch responses."""

from collections.abc import Mapping
from typing import Any

# Before anything loads pydantic: Powertools' batch then skips loading its pydantic event models (~60 ms).
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from credits_pipeline.domain.identity import delivery_id
from credits_pipeline.services.observability import logger, metrics
from credits_pipeline.wiring.pusher import build_pusher

processor = SqsFifoPartialProcessor()
# Batch size 1 makes every failure a whole-batch failure, which Powertools raises by default: answer it as
# a partial batch response instead (ReportBatchItemFailures). The FIFO processor's constructor takes no
# flag for it (powertools-lambda-python#7596).
processor.raise_on_entire_batch_failure = False


# Built at cold start: settings are validated (a clear error names each bad variable) before any event.
service = build_pusher()


@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Mapping[str, object]:
    service.once.register(context)

    def record_handler(record: SQSRecord) -> None:
        receives = int(record.attributes.approximate_receive_count)
        service.handle_message(
            record.body,
            delivery_id(record.message_id, receives),
            lambda: context.get_remaining_time_in_millis() / 1000,
            last_attempt=receives >= service.max_receive_count,
        )

    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
