"""A deployed stack's outputs and parameters, read from CloudFormation (moto's, when run locally)."""

from dataclasses import dataclass

import boto3


@dataclass(frozen=True)
class Stack:
    name: str
    outputs: dict[str, str]
    parameters: dict[str, str]

    def output(self, name: str) -> str:
        try:
            return self.outputs[name]
        except KeyError:
            raise SystemExit(f"stack {self.name} has no output {name}: is it this project's stack?") from None


def describe_stack(stack_name: str) -> Stack:
    response = boto3.client("cloudformation").describe_stacks(StackName=stack_name)
    stack = response["Stacks"][0]
    return Stack(
        name=stack_name,
        outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
        parameters={p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])},
    )
