"""The whole pipeline on loopback: the stack provisioned into moto from template.yaml, the CloudZero
emulator (or any AnyCost base URL), and the local runner driving both functions.

The functions' environments are read back from the Lambda functions that moto's CloudFormation
created from the template, so the local run uses exactly the configuration the template deploys.
"""

from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import boto3

from credits_pipeline.domain.alerts import DEFAULT_STACK_NAME
from local_stack.cloudzero import CloudZeroEmulator
from local_stack.provision import LOCAL_API_KEY, LOCAL_CONNECTION_ID, DeployedFunction, provision_stack
from local_stack.runner import REPO, FunctionConfig, LocalRunner
from stack_outputs import Stack, describe_stack


@dataclass
class LocalPipeline:
    stack: Stack
    runner: LocalRunner
    cloudzero_url: str
    connection_id: str
    emulator: CloudZeroEmulator | None

    @property
    def bucket(self) -> str:
        return self.stack.output("BucketName")

    def upload(self, path: Path | str, key: str | None = None) -> str:
        """Upload a local file under the incoming prefix, as an operator would."""
        source = Path(path)
        prefix = self.stack.parameters.get("IncomingPrefix", "incoming/")
        key = key or f"{prefix}{source.name}"
        boto3.client("s3").upload_file(str(source), self.bucket, key)
        return key

    def put(self, key: str, body: bytes) -> str:
        boto3.client("s3").put_object(Bucket=self.bucket, Key=key, Body=body)
        return key


@contextmanager
def local_pipeline(
    *,
    stack_name: str = DEFAULT_STACK_NAME,
    cloudzero_url: str | None = None,
    api_key: str = LOCAL_API_KEY,
    test_key: str = "",
    connection_id: str = LOCAL_CONNECTION_ID,
    parameters: Mapping[str, str] | None = None,
    pusher_timeout_seconds: float | None = None,
    environment: Mapping[str, str] | None = None,
    cloudzero_port: int = 0,
    function_log: TextIO | None = None,
    retry_delay_seconds: int = 0,
) -> Iterator[LocalPipeline]:
    """Provision and wire everything; AWS_ENDPOINT_URL must already point at moto's server.

    `cloudzero_port`: the emulator's port (a free one by default); `function_log`: where the functions'
    log lines and metrics go (stdout by default, as Lambda's go to CloudWatch); `retry_delay_seconds`: how
    long a month message that failed stays invisible (the queue's visibility timeout, 0 locally by default).
    The emulator knows one connection, `connection_id`, and answers 404 for any other, as CloudZero does: a
    `parameters` CloudZeroConnectionId other than it names a connection CloudZero does not have.
    """
    with ExitStack() as cleanup:
        emulator = None
        if cloudzero_url is None:
            emulator = cleanup.enter_context(
                CloudZeroEmulator(api_key=api_key, port=cloudzero_port, connections=[connection_id])
            )
            cloudzero_url = emulator.base_url
        stack_parameters = {
            "CloudZeroConnectionId": connection_id,
            "CloudZeroBaseUrl": cloudzero_url,
            "CloudZeroTestKey": test_key,
            **(parameters or {}),
        }
        outputs = provision_stack(stack_name, stack_parameters, api_key=api_key)
        runner = LocalRunner(
            splitter=_hosted(outputs.splitter, "splitter", None, environment),
            pusher=_hosted(outputs.pusher, "pusher", pusher_timeout_seconds, environment),
            upload_queue_url=outputs.local_upload_queue_url,
            month_queue_url=outputs.month_queue_url,
            splitter_failure_queue_url=outputs.splitter_failure_queue_url,
            log=function_log,
            retry_delay_seconds=retry_delay_seconds,
        )
        cleanup.callback(runner.close)
        # The operator's view of the stack, as the operator commands read it.
        stack = describe_stack(stack_name)
        yield LocalPipeline(stack, runner, cloudzero_url, connection_id, emulator)


def _hosted(
    function: DeployedFunction, directory: str, timeout: float | None, overrides: Mapping[str, str] | None
) -> FunctionConfig:
    return FunctionConfig(
        name=function.name,
        handler_path=REPO / "functions" / directory / "app.py",
        timeout_seconds=timeout or function.timeout_seconds,
        environment={**function.environment, **(overrides or {})},
        memory_mb=function.memory_mb,
    )
