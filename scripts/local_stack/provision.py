"""The stack's resources in moto: template.yaml transformed offline and created by moto's CloudFormation.

`provision_stack()` needs moto's server reached through AWS_ENDPOINT_URL (see `moto_stack.moto_server`).
It then does what moto ignores or cannot do, so that local runs behave like the deployed stack:

- the table's TimeToLiveSpecification and the bucket's versioning and public access block are applied;
- moto's CloudFormation skips AWS::SecretsManager::Secret, which would leave the ApiKeySecretArn output
  and the pusher's CLOUDZERO_API_KEY_SECRET empty. So the secret is created through the Secrets Manager
  API first, and the template given to moto names it by ARN instead of declaring it (`for_moto()`):
  anything reading the stack's outputs or the functions' configuration sees the secret's ARN;
- the pusher's SQS event source mapping is disabled: moto would otherwise receive each month message
  itself and try to invoke the function in Docker, using up receive counts. Locally a runner polls;
- (local only) the bucket's ObjectCreated events under the incoming prefix go to a standard SQS queue,
  `<stack>-local-uploads`, because moto cannot invoke the splitter either. Like real S3, moto first
  sends an `s3:TestEvent` message to that queue.

moto does not enforce IAM or bucket policies; `tests/template/test_policies.py` checks those statically.
"""

import copy
import io
import json
import logging
import re
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import boto3
from botocore.exceptions import ClientError, WaiterError
from cfnlint.decode import decode_str
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.utils.py27hash_fix import to_py27_compatible_template, undo_mark_unicode_str_in_template

from credits_pipeline.domain.alerts import DEFAULT_STACK_NAME

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
# What provision_stack() passes for the one parameter without a default, unless told otherwise.
LOCAL_CONNECTION_ID = "local-connection"
# The API key stored in the local secret; the CloudZero emulator decides what it accepts.
LOCAL_API_KEY = "local-test-api-key"
# Where transformed_template() points CodeUri/ContentUri; provision_stack() uploads placeholder zips.
PLACEHOLDER_CODE_BUCKET = "local-sam-artifacts"
TRANSFORM_REGION = "us-east-1"

Template = dict[str, Any]


class ProvisionError(RuntimeError):
    """The stack could not be created locally; the message says why."""


@dataclass(frozen=True)
class DeployedFunction:
    """A Lambda function as the template configured it: what a local runner needs to host it."""

    name: str
    timeout_seconds: float
    memory_mb: int
    # The environment the function gets from the template, as deployed here.
    environment: Mapping[str, str]


@dataclass(frozen=True)
class StackOutputs:
    """The stack's Outputs (template.yaml), plus what only the local stack has."""

    stack_name: str
    bucket_name: str
    month_queue_url: str
    month_queue_arn: str
    dead_letter_queue_url: str
    dead_letter_queue_arn: str
    splitter_failure_queue_url: str
    idempotency_table_name: str
    api_key_secret_arn: str
    splitter_function_name: str
    pusher_function_name: str
    # Local only: receives the bucket's ObjectCreated events under the incoming prefix.
    local_upload_queue_url: str
    cloudzero_connection_id: str
    splitter: DeployedFunction
    pusher: DeployedFunction
    watchdog: DeployedFunction
    # Every template parameter's value in this stack (defaults included).
    parameters: Mapping[str, str] = field(default_factory=dict)

    @property
    def splitter_environment(self) -> Mapping[str, str]:
        return self.splitter.environment

    @property
    def pusher_environment(self) -> Mapping[str, str]:
        return self.pusher.environment


# ---------------------------------------------------------------- template


def load_template(path: Path = TEMPLATE_PATH) -> Template:
    """template.yaml as plain JSON-like data; short-form tags (!Ref, !Sub, ...) become Fn:: mappings."""
    return cast(Template, json.loads(_template_json(path)))


@cache
def _template_json(path: Path) -> str:
    template, problems = decode_str(path.read_text(encoding="utf-8"))
    if problems or not isinstance(template, dict):
        raise ProvisionError(f"{path} cannot be parsed: {'; '.join(str(p) for p in problems)}")
    return json.dumps(template)


def parameter_values(parameters: Mapping[str, str] | None = None, template: Template | None = None) -> dict[str, str]:
    """Every parameter's value: the given ones over the template's defaults, checked like CloudFormation.

    moto checks neither AllowedPattern nor AllowedValues nor the template's Rules; this does, so a local
    run rejects what a deploy would reject.
    """
    template = template or load_template()
    declared: dict[str, dict[str, Any]] = template.get("Parameters", {})
    given = dict(parameters or {})
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ProvisionError(f"unknown template parameters: {', '.join(unknown)}")
    values: dict[str, str] = {}
    for name, spec in declared.items():
        if name in given:
            value = str(given[name])
        elif "Default" in spec:
            value = str(spec["Default"])
        else:
            raise ProvisionError(f"parameter {name} has no default and needs a value")
        pattern = spec.get("AllowedPattern")
        if pattern is not None and not re.fullmatch(pattern, value):
            raise ProvisionError(f"parameter {name}={value!r} does not match {pattern}")
        allowed = spec.get("AllowedValues")
        if allowed is not None and value not in {str(item) for item in allowed}:
            raise ProvisionError(f"parameter {name}={value!r} is not one of {allowed}")
        if len(value) < int(spec.get("MinLength", 0)):
            raise ProvisionError(f"parameter {name} is shorter than {spec['MinLength']}")
        values[name] = value
    _check_rules(template.get("Rules", {}), values)
    return values


def _check_rules(rules: Mapping[str, Any], values: Mapping[str, str]) -> None:
    """The template's Rules, as CloudFormation applies them when a stack is created or updated."""
    for name, rule in rules.items():
        if "RuleCondition" in rule and not _rule_value(rule["RuleCondition"], values):
            continue
        for assertion in rule.get("Assertions", []):
            if not _rule_value(assertion["Assert"], values):
                raise ProvisionError(f"rule {name}: {assertion.get('AssertDescription', 'assertion failed')}")


def _rule_value(node: Any, values: Mapping[str, str]) -> Any:
    """A rule condition or assertion: the rule functions the template uses (others are refused, not ignored)."""
    if not isinstance(node, dict):
        return node
    if set(node) == {"Ref"}:
        return values[node["Ref"]]
    ((function, arguments),) = node.items()
    if function == "Fn::Equals":
        left, right = (_rule_value(argument, values) for argument in arguments)
        return str(left) == str(right)
    if function == "Fn::Not":
        return not _rule_value(arguments[0], values)
    if function == "Fn::And":
        return all(_rule_value(argument, values) for argument in arguments)
    if function == "Fn::Or":
        return any(_rule_value(argument, values) for argument in arguments)
    raise ProvisionError(f"the template's Rules use {function}, which the local stack cannot evaluate")


def transformed_template(
    parameters: Mapping[str, str] | None = None, *, code_bucket: str = PLACEHOLDER_CODE_BUCKET
) -> Template:
    """template.yaml after the SAM transform, as CloudFormation would run it (a fresh copy each call).

    CodeUri/ContentUri become `s3://<code_bucket>/<LogicalId>.zip`. Parameters absent from
    `parameters` take the template's defaults, and CloudZeroConnectionId defaults to LOCAL_CONNECTION_ID.
    """
    values = parameter_values({"CloudZeroConnectionId": LOCAL_CONNECTION_ID, **(parameters or {})})
    return copy.deepcopy(_transform(tuple(sorted(values.items())), code_bucket))


@cache
def _transform(values: tuple[tuple[str, str], ...], code_bucket: str) -> Template:
    sam = load_template()
    for logical_id, resource in sam.get("Resources", {}).items():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if key in properties:
                properties[key] = f"s3://{code_bucket}/{logical_id}.zip"
    # What samtranslator.translator.transform.transform() does, with an explicit region: no AWS
    # configuration is needed. Managed policies are named by ARN, so no policy loader is needed.
    parameters: dict[str, Any] = dict(values)
    to_py27_compatible_template(sam, parameters)
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=TRANSFORM_REGION))
    transformed = translator.translate(sam, parameter_values=parameters, get_managed_policy_map=dict)
    translator.metrics.publish()  # else samtranslator prints "There are unpublished metrics" at exit
    return cast(Template, json.loads(json.dumps(undo_mark_unicode_str_in_template(transformed))))


# ---------------------------------------------------------------- stack


def provision_stack(
    stack_name: str = DEFAULT_STACK_NAME,
    parameters: dict[str, str] | None = None,
    *,
    api_key: str = LOCAL_API_KEY,
) -> StackOutputs:
    """Create the stack in moto (or reuse it when it exists with the same parameters); return its outputs.

    `parameters` are template parameters; CloudZeroConnectionId defaults to LOCAL_CONNECTION_ID.
    `api_key` is stored in the stack's API key secret when this call creates the secret.
    """
    with warnings.catch_warnings():
        # Expected: moto's CloudFormation skips AWS::SecretsManager::Secret (created here instead),
        # AWS::S3::BucketPolicy, AWS::CloudWatch::Alarm and AWS::Lambda::EventInvokeConfig.
        warnings.filterwarnings("ignore", message=r"Tried to parse .* not supported by moto")
        logging.getLogger("moto").addFilter(_expected_moto_gaps)  # the same, logged once more
        return _provision(stack_name, parameters or {}, api_key)


def _expected_moto_gaps(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith("No Moto CloudFormation support for")


def _provision(stack_name: str, parameters: Mapping[str, str], api_key: str) -> StackOutputs:
    values = parameter_values({"CloudZeroConnectionId": LOCAL_CONNECTION_ID, **parameters})
    template = transformed_template(values, code_bucket=f"{stack_name}-local-artifacts")
    cloudformation = boto3.client("cloudformation")

    existing = _existing_parameters(cloudformation, stack_name)
    if existing is None:
        secrets = _create_secrets(template, stack_name, api_key)
        _upload_placeholder_code(template)
        _create_stack(cloudformation, stack_name, for_moto(template, secrets), values)
    elif existing != values:
        changed = sorted(key for key in values if existing.get(key) != values[key])
        raise ProvisionError(f"stack {stack_name} exists with other parameter values ({', '.join(changed)})")

    outputs = _stack_outputs(cloudformation, stack_name)
    queue_urls = _endpoint_queue_urls(outputs)
    outputs.update({key: queue_urls.get(value, value) for key, value in outputs.items()})
    resources = template["Resources"]
    _apply_table_settings(resources["IdempotencyTable"], outputs["IdempotencyTableName"])
    _apply_bucket_settings(resources["CreditsBucket"], outputs["BucketName"])
    _disable_event_source_mappings(outputs["PusherFunctionName"])
    upload_queue_url = _wire_local_uploads(stack_name, outputs["BucketName"], values["IncomingPrefix"])

    return StackOutputs(
        stack_name=stack_name,
        bucket_name=outputs["BucketName"],
        month_queue_url=outputs["MonthQueueUrl"],
        month_queue_arn=outputs["MonthQueueArn"],
        dead_letter_queue_url=outputs["DeadLetterQueueUrl"],
        dead_letter_queue_arn=outputs["DeadLetterQueueArn"],
        splitter_failure_queue_url=outputs["SplitterFailureQueueUrl"],
        idempotency_table_name=outputs["IdempotencyTableName"],
        api_key_secret_arn=outputs["ApiKeySecretArn"],
        splitter_function_name=outputs["SplitterFunctionName"],
        pusher_function_name=outputs["PusherFunctionName"],
        local_upload_queue_url=upload_queue_url,
        cloudzero_connection_id=values["CloudZeroConnectionId"],
        parameters=values,
        splitter=_deployed_function(outputs["SplitterFunctionName"], queue_urls),
        pusher=_deployed_function(outputs["PusherFunctionName"], queue_urls),
        watchdog=_deployed_function(outputs["WatchdogFunctionName"], queue_urls),
    )


def _create_stack(
    cloudformation: "CloudFormationClient", stack_name: str, template: Template, values: Mapping[str, str]
) -> None:
    try:
        cloudformation.create_stack(
            StackName=stack_name,
            TemplateBody=json.dumps(template),
            Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in values.items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
        cloudformation.get_waiter("stack_create_complete").wait(
            StackName=stack_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
    except (ClientError, WaiterError) as error:
        raise ProvisionError(f"stack {stack_name} was not created in moto: {error}") from error


def _existing_parameters(cloudformation: "CloudFormationClient", stack_name: str) -> dict[str, str] | None:
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError:
        return None
    live = [stack for stack in stacks if stack["StackStatus"] != "DELETE_COMPLETE"]
    if not live:
        return None
    if live[0]["StackStatus"] not in {"CREATE_COMPLETE", "UPDATE_COMPLETE"}:
        raise ProvisionError(f"stack {stack_name} exists in state {live[0]['StackStatus']}")
    return {item["ParameterKey"]: item.get("ParameterValue", "") for item in live[0].get("Parameters", [])}


def _upload_placeholder_code(template: Template) -> None:
    """moto's Lambda checks that the code object exists; it never runs it."""
    s3 = boto3.client("s3")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "placeholder: moto never runs Lambda code\n")
    created: set[str] = set()
    for resource in template["Resources"].values():
        location = resource.get("Properties", {}).get("Code") or resource.get("Properties", {}).get("Content")
        if not isinstance(location, dict) or "S3Bucket" not in location:
            continue
        if location["S3Bucket"] not in created:
            s3.create_bucket(Bucket=location["S3Bucket"])
            created.add(location["S3Bucket"])
        s3.put_object(Bucket=location["S3Bucket"], Key=location["S3Key"], Body=buffer.getvalue())


def _stack_outputs(cloudformation: "CloudFormationClient", stack_name: str) -> dict[str, str]:
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {item["OutputKey"]: item.get("OutputValue") for item in stack.get("Outputs", [])}
    required = (
        "BucketName",
        "MonthQueueUrl",
        "MonthQueueArn",
        "DeadLetterQueueUrl",
        "DeadLetterQueueArn",
        "SplitterFailureQueueUrl",
        "IdempotencyTableName",
        "ApiKeySecretArn",
        "SplitterFunctionName",
        "PusherFunctionName",
    )
    missing = [key for key in required if not outputs.get(key)]
    if missing:
        raise ProvisionError(f"stack {stack_name} lacks outputs: {', '.join(missing)}")
    return {key: value for key, value in outputs.items() if isinstance(value, str)}


def _apply_table_settings(resource: Template, table_name: str) -> None:
    ttl = resource["Properties"].get("TimeToLiveSpecification")
    if ttl:
        boto3.client("dynamodb").update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"Enabled": bool(ttl["Enabled"]), "AttributeName": ttl["AttributeName"]},
        )


def _apply_bucket_settings(resource: Template, bucket_name: str) -> None:
    """Versioning changes what S3 events and GetObject carry (version ids), so it must match AWS.

    The bucket policy is left out: its deny of non-TLS requests would not be enforced by moto anyway,
    and the local endpoint is plain HTTP.
    """
    s3 = boto3.client("s3")
    properties = resource["Properties"]
    versioning = properties.get("VersioningConfiguration")
    if versioning:
        s3.put_bucket_versioning(Bucket=bucket_name, VersioningConfiguration={"Status": versioning["Status"]})
    block = properties.get("PublicAccessBlockConfiguration")
    if block:
        s3.put_public_access_block(
            Bucket=bucket_name,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": bool(block.get("BlockPublicAcls")),
                "IgnorePublicAcls": bool(block.get("IgnorePublicAcls")),
                "BlockPublicPolicy": bool(block.get("BlockPublicPolicy")),
                "RestrictPublicBuckets": bool(block.get("RestrictPublicBuckets")),
            },
        )


def _create_secrets(template: Template, stack_name: str, api_key: str) -> dict[str, str]:
    """Each AWS::SecretsManager::Secret of the template, created (or found) through the API: {logical id: ARN}."""
    client = boto3.client("secretsmanager")
    arns: dict[str, str] = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::SecretsManager::Secret":
            continue
        name = f"{stack_name}-{logical_id}"
        try:
            arns[logical_id] = client.describe_secret(SecretId=name)["ARN"]
        except client.exceptions.ResourceNotFoundException:
            arns[logical_id] = client.create_secret(
                Name=name,
                Description=str(resource["Properties"].get("Description", "")),
                SecretString=api_key,
            )["ARN"]
    return arns


def for_moto(template: Template, secrets: Mapping[str, str]) -> Template:
    """The template with each secret in `secrets` replaced by its ARN: moto cannot create secrets."""
    adapted = copy.deepcopy(template)
    for logical_id in secrets:
        del adapted["Resources"][logical_id]

    def replace(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Ref"} and node["Ref"] in secrets:
                return secrets[node["Ref"]]
            return {key: replace(value) for key, value in node.items()}
        if isinstance(node, list):
            return [replace(item) for item in node]
        return node

    adapted = cast(Template, replace(adapted))
    text = json.dumps(adapted)
    for logical_id in secrets:
        if re.search(rf'"{logical_id}"|\${{{logical_id}[.}}]', text):
            raise ProvisionError(f"{logical_id} is referenced other than by Ref; for_moto() cannot replace it")
    return adapted


def _disable_event_source_mappings(function_name: str) -> None:
    lambda_client = boto3.client("lambda")
    for mapping in lambda_client.list_event_source_mappings(FunctionName=function_name)["EventSourceMappings"]:
        if mapping.get("State") != "Disabled":
            lambda_client.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)


def _wire_local_uploads(stack_name: str, bucket_name: str, prefix: str) -> str:
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName=f"{stack_name}-local-uploads")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    current = boto3.client("s3").get_bucket_notification_configuration(Bucket=bucket_name)
    if any(item.get("QueueArn") == queue_arn for item in current.get("QueueConfigurations", [])):
        return queue_url
    boto3.client("s3").put_bucket_notification_configuration(
        Bucket=bucket_name,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": "local-splitter-trigger",
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
                }
            ]
        },
    )
    return queue_url


def _endpoint_queue_urls(outputs: Mapping[str, str]) -> dict[str, str]:
    """moto's CloudFormation answers `https://sqs.<region>.amazonaws.com/...` queue URLs, its SQS API
    answers URLs on the endpoint. Both reach moto; use the endpoint form everywhere, as the SQS API does.
    """
    sqs = boto3.client("sqs")
    return {
        url: sqs.get_queue_url(QueueName=url.rsplit("/", 1)[-1])["QueueUrl"]
        for key, url in outputs.items()
        if key.endswith("QueueUrl")
    }


def _deployed_function(function_name: str, replacements: Mapping[str, str]) -> DeployedFunction:
    configuration = boto3.client("lambda").get_function_configuration(FunctionName=function_name)
    variables = configuration.get("Environment", {}).get("Variables", {})
    environment = {key: "" if value is None else str(value) for key, value in variables.items()}
    return DeployedFunction(
        name=function_name,
        timeout_seconds=float(configuration.get("Timeout", 3)),
        memory_mb=int(configuration.get("MemorySize", 128)),
        environment={key: replacements.get(value, value) for key, value in environment.items()},
    )
