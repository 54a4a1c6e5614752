"""A deployed stack's outputs and parameters, read from CloudFormation (moto's, when run locally)."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3

from credits_pipeline.wiring.settings import DEFAULT_INCOMING_PREFIX
from operator_commands.errors import CommandError

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient


@dataclass(frozen=True)
class Stack:
    name: str
    outputs: dict[str, str]
    parameters: dict[str, str]

    def output(self, name: str) -> str:
        try:
            return self.outputs[name]
        except KeyError:
            raise CommandError(f"stack {self.name} has no output {name}: is it this project's stack?") from None

    @property
    def bucket(self) -> str:
        return self.output("BucketName")

    @property
    def connection_id(self) -> str:
        return self.parameters.get("CloudZeroConnectionId", "")

    @property
    def incoming_prefix(self) -> str:
        """Where the splitter reads uploads from: S3 tells it of no other key."""
        return self.parameters.get("IncomingPrefix") or DEFAULT_INCOMING_PREFIX


def describe_stack(stack_name: str, client: "CloudFormationClient | None" = None) -> Stack:
    response = (client or boto3.client("cloudformation")).describe_stacks(StackName=stack_name)
    stack = response["Stacks"][0]
    return Stack(
        name=stack_name,
        outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
        parameters={p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])},
    )
