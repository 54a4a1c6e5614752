"""Offline checks of template.yaml: SAM and cfn-lint validation, a deploy into moto's CloudFormation,
and the properties an operator relies on, checked on the SAM-transformed CloudFormation.

Each property is a `check_*` function; `test_check_catches_breakage` breaks the template in the way the
check is about and expects the check to fail, so no check passes vacuously.
"""

import copy
import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import boto3
import pytest
from cfnlint.api import lint

from credits_pipeline.domain.identity import batch_key
from credits_pipeline.domain.messages import MonthMessage
from credits_pipeline.wiring.settings import PusherSettings, SplitterSettings
from local_stack.provision import (
    LOCAL_API_KEY,
    TEMPLATE_PATH,
    ProvisionError,
    StackOutputs,
    parameter_values,
    provision_stack,
    transformed_template,
)

REPO_ROOT = TEMPLATE_PATH.parent
Template = dict[str, Any]

OUTPUTS = {
    "BucketName",
    "MonthQueueUrl",
    "DeadLetterQueueUrl",
    "DeadLetterQueueArn",
    "MonthQueueArn",
    "SplitterFailureQueueUrl",
    "IdempotencyTableName",
    "ApiKeySecretArn",
    "SplitterFunctionName",
    "PusherFunctionName",
}
# Managed policies SAM attaches: logs, and the SQS event source's receive/delete/attributes.
ALLOWED_MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
}
VISIBILITY_TIMEOUT_FACTOR = 6


@pytest.fixture(scope="module")
def template() -> Template:
    return transformed_template()


# ---------------------------------------------------------------- helpers


def resources(template: Template, kind: str) -> dict[str, Template]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def props(template: Template, logical_id: str) -> Template:
    properties: Template = template["Resources"][logical_id]["Properties"]
    return properties


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def ref_target(value: Any) -> str | None:
    """The logical id a Ref or GetAtt points at."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return str(target[0] if isinstance(target, list) else target.split(".")[0])
    return None


def iam_statements(template: Template) -> Iterator[tuple[str, Template]]:
    """(resource, statement) for every identity-policy statement and every Allow in a resource policy."""
    for name, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                for statement in as_list(policy["PolicyDocument"]["Statement"]):
                    yield name, statement
        elif resource["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
            for statement in as_list(properties["PolicyDocument"]["Statement"]):
                yield name, statement
        elif "PolicyDocument" in properties:
            for statement in as_list(properties["PolicyDocument"]["Statement"]):
                if statement.get("Effect") == "Allow":
                    yield name, statement


def role_statements(template: Template, function: str) -> list[Template]:
    """Every statement granted to a function: its role's inline policies and policies attached to it."""
    role = ref_target(props(template, function)["Role"])
    return [
        statement
        for name, statement in iam_statements(template)
        if name == role
        or (
            template["Resources"][name]["Type"] == "AWS::IAM::Policy"
            and role in [ref_target(item) for item in props(template, name).get("Roles", [])]
        )
    ]


def granted(template: Template, function: str, action: str) -> list[Any]:
    """The resources a function may apply `action` to (as written in the template)."""
    return [
        resource
        for statement in role_statements(template, function)
        if statement.get("Effect") == "Allow" and action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    ]


def rendered(value: Any) -> str:
    """A resource expression as text, enough to see which prefix or resource it names."""
    return json.dumps(value, sort_keys=True)


def environment(template: Template, function: str) -> dict[str, Any]:
    return dict(props(template, function)["Environment"]["Variables"])


def queue_of_mapping(template: Template, function: str) -> tuple[Template, str]:
    (mapping,) = [
        m["Properties"]
        for m in resources(template, "AWS::Lambda::EventSourceMapping").values()
        if ref_target(m["Properties"]["FunctionName"]) == function
    ]
    return mapping, str(ref_target(mapping["EventSourceArn"]))


def settings_fields(kind: type[Any]) -> tuple[set[str], set[str]]:
    """(required, all) environment variable names of a settings class."""
    fields = kind.model_fields
    return (
        {name.upper() for name, info in fields.items() if info.is_required()},
        {name.upper() for name in fields},
    )


# ---------------------------------------------------------------- property checks


def check_no_wildcard_actions(template: Template) -> None:
    for name, statement in iam_statements(template):
        assert "NotAction" not in statement, f"{name}: NotAction grants everything else"
        for action in as_list(statement.get("Action", [])):
            assert "*" not in action, f"{name}: action {action} has a wildcard"
        if statement.get("Effect") == "Allow" and name not in resources(template, "AWS::S3::BucketPolicy"):
            assert "*" not in as_list(statement.get("Resource", [])), f"{name}: Allow on every resource"
    for name, role in resources(template, "AWS::IAM::Role").items():
        extra = set(role["Properties"].get("ManagedPolicyArns", [])) - ALLOWED_MANAGED_POLICIES
        assert not extra, f"{name}: unexpected managed policies {extra}"


def check_write_targets(template: Template) -> None:
    """The functions write only batches/ and reports/ (never the incoming prefix: that would re-trigger
    the splitter), and send only to the queues their job needs."""
    for function in ("SplitterFunction", "PusherFunction"):
        for resource in granted(template, function, "s3:PutObject"):
            text = rendered(resource)
            assert text.endswith(('/batches/*"}', '/reports/*"}')), f"{function} may write {text}"
    assert any("/batches/*" in rendered(r) for r in granted(template, "SplitterFunction", "s3:PutObject"))
    sends = {
        function: sorted(str(ref_target(r)) for r in granted(template, function, "sqs:SendMessage"))
        for function in ("SplitterFunction", "PusherFunction")
    }
    assert sends == {
        "SplitterFunction": ["MonthQueue", "SplitterFailureQueue"],
        "PusherFunction": ["DeadLetterQueue"],
    }


def check_table_access(template: Template) -> None:
    wanted = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    for function in ("SplitterFunction", "PusherFunction"):
        for action in wanted:
            assert [ref_target(r) for r in granted(template, function, action)] == ["IdempotencyTable"], (
                f"{function} lacks {action} on the table"
            )


def check_queue_outlives_pusher(template: Template) -> None:
    _, queue = queue_of_mapping(template, "PusherFunction")
    timeout = props(template, "PusherFunction")["Timeout"]
    visibility = props(template, queue)["VisibilityTimeout"]
    assert visibility >= VISIBILITY_TIMEOUT_FACTOR * timeout, (
        f"{queue} VisibilityTimeout {visibility} < {VISIBILITY_TIMEOUT_FACTOR} x pusher Timeout {timeout}"
    )


def check_one_request_in_flight(template: Template) -> None:
    pusher = props(template, "PusherFunction")
    assert pusher.get("ReservedConcurrentExecutions") == 1
    mapping, queue = queue_of_mapping(template, "PusherFunction")
    assert queue == "MonthQueue"
    assert mapping.get("BatchSize") == 1
    assert "ReportBatchItemFailures" in mapping.get("FunctionResponseTypes", [])
    assert mapping.get("Enabled", True) is True


def check_fifo_queues(template: Template) -> None:
    month, dlq = props(template, "MonthQueue"), props(template, "DeadLetterQueue")
    assert month.get("FifoQueue") is True and dlq.get("FifoQueue") is True
    assert month.get("ContentBasedDeduplication") is False
    assert ref_target(month["RedrivePolicy"]["deadLetterTargetArn"]) == "DeadLetterQueue"
    assert int(month["RedrivePolicy"]["maxReceiveCount"]) == 5
    assert dlq.get("MessageRetentionPeriod") == 1209600
    allow = dlq["RedriveAllowPolicy"]
    assert allow["redrivePermission"] == "byQueue"
    (source,) = allow["sourceQueueArns"]
    # The DLQ names the month queue by its ARN, built from the same name the month queue is given.
    assert month["QueueName"]["Fn::Sub"] in source["Fn::Sub"]
    for queue in ("MonthQueue", "DeadLetterQueue", "SplitterFailureQueue"):
        assert props(template, queue).get("SqsManagedSseEnabled") is True, f"{queue} unencrypted"


def check_table(template: Template) -> None:
    table = props(template, "IdempotencyTable")
    assert table.get("BillingMode") == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert {"AttributeName": "id", "AttributeType": "S"} in table["AttributeDefinitions"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table.get("SSESpecification", {}).get("SSEEnabled") is True


def check_bucket(template: Template) -> None:
    bucket = props(template, "CreditsBucket")
    block = bucket["PublicAccessBlockConfiguration"]
    for key in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"):
        assert block.get(key) is True, f"public access: {key}"
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    encryption = bucket.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
    assert [rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] for rule in encryption] in (
        ["AES256"],
        ["aws:kms"],
        ["aws:kms:dsse"],
    ), "bucket not encrypted by default"
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    rules = bucket["LifecycleConfiguration"]["Rules"]
    expiring = [rule for rule in rules if "ExpirationInDays" in rule or "ExpirationDate" in rule]
    assert [rule.get("Prefix") for rule in expiring] == ["batches/"], "only batches/ may expire"
    assert any("NoncurrentVersionExpiration" in rule for rule in rules)

    denies = [
        s
        for s in bucket_policy_statements(template)
        if s["Effect"] == "Deny"
        and s.get("Principal") in ("*", {"AWS": "*"})
        and "s3:*" in as_list(s["Action"])
        and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") in ("false", False)
    ]
    assert denies, "the bucket policy does not deny requests without TLS"
    covered = [rendered(r) for s in denies for r in as_list(s["Resource"])]
    assert any(text.endswith('"Arn"]}') for text in covered), "bucket-level requests not covered"
    assert any(text.endswith('/*"}') for text in covered), "object requests not covered"


def bucket_policy_statements(template: Template) -> list[Template]:
    return [
        statement
        for policy in resources(template, "AWS::S3::BucketPolicy").values()
        if ref_target(policy["Properties"]["Bucket"]) == "CreditsBucket"
        for statement in as_list(policy["Properties"]["PolicyDocument"]["Statement"])
    ]


def check_log_groups(template: Template) -> None:
    groups = resources(template, "AWS::Logs::LogGroup").values()
    for function in resources(template, "AWS::Lambda::Function"):
        matching = [
            g["Properties"]
            for g in groups
            if g["Properties"].get("LogGroupName") == {"Fn::Sub": f"/aws/lambda/${{{function}}}"}
        ]
        assert matching, f"{function} has no log group of its own"
        assert matching[0].get("RetentionInDays") == {"Ref": "LogRetentionDays"}, f"{function}: no retention"


def check_alarms(template: Template) -> None:
    watched: set[tuple[str, str]] = set()
    for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
        properties = alarm["Properties"]
        assert properties["ComparisonOperator"] == "GreaterThanThreshold" and properties["Threshold"] == 0
        assert properties["AlarmActions"] == {
            "Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]
        }
        for dimension in properties["Dimensions"]:
            watched.add((properties["MetricName"], str(ref_target(dimension["Value"]))))
    assert ("ApproximateNumberOfMessagesVisible", "DeadLetterQueue") in watched
    assert ("ApproximateNumberOfMessagesVisible", "SplitterFailureQueue") in watched
    assert ("Errors", "PusherFunction") in watched
    assert template["Conditions"]["HasAlarmTopic"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]}


def check_no_api_key_in_parameters_or_environment(template: Template) -> None:
    for name, spec in template["Parameters"].items():
        assert not re.search(r"api.?key|secret|token|password", name, re.IGNORECASE), f"parameter {name}"
        assert not spec.get("NoEcho"), f"parameter {name} looks secret"
    for function in resources(template, "AWS::Lambda::Function"):
        for name, value in environment(template, function).items():
            if re.search(r"API_?KEY|SECRET|TOKEN|PASSWORD", name):
                assert name == "CLOUDZERO_API_KEY_SECRET", f"{function}: {name}"
                assert value == {"Ref": "ApiKeySecret"}, f"{function}: {name} is not the secret's ARN"
            elif not name.startswith("POWERTOOLS_"):
                # Everything else comes from a parameter or a resource: no literal that could be a key.
                assert isinstance(value, dict), f"{function}: {name} is a literal"
    secret = template["Resources"]["ApiKeySecret"]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert "SecretString" not in secret["Properties"] and "GenerateSecretString" in secret["Properties"]
    assert "put-secret-value" in secret["Properties"]["Description"]
    assert [ref_target(r) for r in granted(template, "PusherFunction", "secretsmanager:GetSecretValue")] == [
        "ApiKeySecret"
    ]
    assert not granted(template, "SplitterFunction", "secretsmanager:GetSecretValue")


def check_environment_matches_settings(template: Template) -> None:
    """Each function gets every variable its settings class requires, and nothing it would not read."""
    for function, kind, service in (
        ("SplitterFunction", SplitterSettings, "splitter"),
        ("PusherFunction", PusherSettings, "pusher"),
    ):
        names = set(environment(template, function))
        required, known = settings_fields(kind)
        assert required <= names, f"{function} lacks {required - names}"
        unknown = {name for name in names - known if not name.startswith("POWERTOOLS_")}
        assert not unknown, f"{function} sets variables nothing reads: {unknown}"
        assert environment(template, function)["POWERTOOLS_SERVICE_NAME"] == service
    assert environment(template, "SplitterFunction")["MONTH_QUEUE_URL"] == {"Ref": "MonthQueue"}
    assert environment(template, "PusherFunction")["DEAD_LETTER_QUEUE_URL"] == {"Ref": "DeadLetterQueue"}
    for function in ("SplitterFunction", "PusherFunction"):
        assert environment(template, function)["IDEMPOTENCY_TABLE"] == {"Ref": "IdempotencyTable"}


def check_splitter_trigger(template: Template) -> None:
    splitter = props(template, "SplitterFunction")
    assert splitter["Timeout"] == 300 and splitter["MemorySize"] == 1024
    assert splitter["EphemeralStorage"]["Size"] >= 2048
    (notification,) = props(template, "CreditsBucket")["NotificationConfiguration"]["LambdaConfigurations"]
    assert ref_target(notification["Function"]) == "SplitterFunction"
    assert notification["Event"] == "s3:ObjectCreated:*"
    assert notification["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": {"Ref": "IncomingPrefix"}}]
    (invoke,) = [
        c["Properties"]
        for c in resources(template, "AWS::Lambda::EventInvokeConfig").values()
        if ref_target(c["Properties"]["FunctionName"]) == "SplitterFunction"
    ]
    assert invoke["MaximumRetryAttempts"] == 2
    assert ref_target(invoke["DestinationConfig"]["OnFailure"]["Destination"]) == "SplitterFailureQueue"
    assert props(template, "SplitterFailureQueue").get("MessageRetentionPeriod") == 1209600


def check_runtime(template: Template) -> None:
    (layer,) = resources(template, "AWS::Lambda::LayerVersion").values()
    for function in resources(template, "AWS::Lambda::Function"):
        properties = props(template, function)
        assert properties["Runtime"] == "python3.12"
        assert properties["Handler"] == "app.lambda_handler"
        assert properties["Architectures"][0] in layer["Properties"]["CompatibleArchitectures"]
        assert [ref_target(item) for item in properties["Layers"]] == [
            name for name in template["Resources"] if template["Resources"][name] is layer
        ]


def check_outputs(template: Template) -> None:
    assert set(template["Outputs"]) >= OUTPUTS


CHECKS: list[Callable[[Template], None]] = [
    check_no_wildcard_actions,
    check_write_targets,
    check_table_access,
    check_queue_outlives_pusher,
    check_one_request_in_flight,
    check_fifo_queues,
    check_table,
    check_bucket,
    check_log_groups,
    check_alarms,
    check_no_api_key_in_parameters_or_environment,
    check_environment_matches_settings,
    check_splitter_trigger,
    check_runtime,
    check_outputs,
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_property_holds(template: Template, check: Callable[[Template], None]) -> None:
    check(template)


# ---------------------------------------------------------------- each check fails when broken


def _statement(template: Template, sid: str) -> Template:
    for _, statement in iam_statements(template):
        if statement.get("Sid") == sid:
            return statement
    raise KeyError(sid)


def _set(logical_id: str, key: str, value: Any) -> Callable[[Template], None]:
    def mutate(template: Template) -> None:
        props(template, logical_id)[key] = value

    return mutate


def _drop(logical_id: str, key: str) -> Callable[[Template], None]:
    def mutate(template: Template) -> None:
        del props(template, logical_id)[key]

    return mutate


def _sub(logical_id: str, key: str, sub_key: str, value: Any) -> Callable[[Template], None]:
    def mutate(template: Template) -> None:
        props(template, logical_id)[key][sub_key] = value

    return mutate


def _statement_action(sid: str, action: Any) -> Callable[[Template], None]:
    def mutate(template: Template) -> None:
        _statement(template, sid)["Action"] = action

    return mutate


def _statement_resource(sid: str, resource: Any) -> Callable[[Template], None]:
    def mutate(template: Template) -> None:
        _statement(template, sid)["Resource"] = resource

    return mutate


def _mapping(key: str, value: Any) -> Callable[[Template], None]:
    def mutate(template: Template) -> None:
        mapping, _ = queue_of_mapping(template, "PusherFunction")
        mapping[key] = value

    return mutate


def _env(function: str, name: str, value: Any) -> Callable[[Template], None]:
    def mutate(template: Template) -> None:
        variables = props(template, function)["Environment"]["Variables"]
        if value is None:
            del variables[name]
        else:
            variables[name] = value

    return mutate


def _remove_type(
    kind: str, keep: Callable[[str, Template], bool] = lambda name, r: False
) -> Callable[[Template], None]:
    def mutate(template: Template) -> None:
        for name in list(resources(template, kind)):
            if not keep(name, template["Resources"][name]):
                del template["Resources"][name]

    return mutate


def _deny_condition(value: str) -> Callable[[Template], None]:
    def mutate(template: Template) -> None:
        for statement in bucket_policy_statements(template):
            statement["Condition"]["Bool"]["aws:SecureTransport"] = value

    return mutate


def _managed_policy(template: Template) -> None:
    props(template, "PusherFunctionRole")["ManagedPolicyArns"].append("arn:aws:iam::aws:policy/AmazonS3FullAccess")


def _add_parameter(template: Template) -> None:
    template["Parameters"]["CloudZeroApiKey"] = {"Type": "String", "NoEcho": True}


def _alarm_without_topic(template: Template) -> None:
    props(template, "DeadLetterQueueAlarm")["AlarmActions"] = {"Ref": "AWS::NoValue"}


def _alarm_on_month_queue(template: Template) -> None:
    props(template, "DeadLetterQueueAlarm")["Dimensions"][0]["Value"] = {"Fn::GetAtt": ["MonthQueue", "QueueName"]}


def _log_retention(template: Template) -> None:
    del props(template, "PusherLogGroup")["RetentionInDays"]


def _lifecycle_expires_incoming(template: Template) -> None:
    props(template, "CreditsBucket")["LifecycleConfiguration"]["Rules"].append(
        {"Id": "x", "Status": "Enabled", "Prefix": "incoming/", "ExpirationInDays": 30}
    )


def _no_public_block(template: Template) -> None:
    props(template, "CreditsBucket")["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] = False


def _no_pitr(template: Template) -> None:
    props(template, "IdempotencyTable")["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] = False


def _ttl_attribute(template: Template) -> None:
    props(template, "IdempotencyTable")["TimeToLiveSpecification"]["AttributeName"] = "ttl"


def _redrive(key: str, value: Any) -> Callable[[Template], None]:
    def mutate(template: Template) -> None:
        props(template, "MonthQueue")["RedrivePolicy"][key] = value

    return mutate


def _prefix_filter(template: Template) -> None:
    (notification,) = props(template, "CreditsBucket")["NotificationConfiguration"]["LambdaConfigurations"]
    notification["Filter"]["S3Key"]["Rules"] = []


def _retries(template: Template) -> None:
    for config in resources(template, "AWS::Lambda::EventInvokeConfig").values():
        config["Properties"]["MaximumRetryAttempts"] = 0


def _secret_literal(template: Template) -> None:
    props(template, "ApiKeySecret")["SecretString"] = "abc"


def _splitter_reads_secret(template: Template) -> None:
    _statement(template, "QueueMonths")["Action"] = ["sqs:SendMessage", "secretsmanager:GetSecretValue"]
    _statement(template, "QueueMonths")["Resource"] = [{"Fn::GetAtt": ["MonthQueue", "Arn"]}]


def _drop_output(template: Template) -> None:
    del template["Outputs"]["DeadLetterQueueArn"]


def _drop_table_grant(template: Template) -> None:
    _statement(template, "IdempotencyAndFileState")["Action"] = ["dynamodb:GetItem", "dynamodb:PutItem"]


def _architecture(template: Template) -> None:
    props(template, "PusherFunction")["Architectures"] = ["x86_64"]


BREAKAGES: list[tuple[Callable[[Template], None], str, Callable[[Template], None]]] = [
    (check_no_wildcard_actions, "s3-star", _statement_action("ReadBatches", "s3:*")),
    (check_no_wildcard_actions, "get-star", _statement_action("ReadAndWriteReports", ["s3:Get*"])),
    (check_no_wildcard_actions, "resource-star", _statement_resource("ReadApiKey", "*")),
    (check_no_wildcard_actions, "managed-policy", _managed_policy),
    (
        check_write_targets,
        "write-incoming",
        _statement_resource("WriteBatchesAndReports", {"Fn::Sub": "${CreditsBucket.Arn}/incoming/*"}),
    ),
    (
        check_write_targets,
        "pusher-sends-month",
        _statement_resource("DeadLetterMonthsThatCannotSucceed", {"Fn::GetAtt": ["MonthQueue", "Arn"]}),
    ),
    (check_table_access, "missing-actions", _drop_table_grant),
    (check_queue_outlives_pusher, "short-visibility", _set("MonthQueue", "VisibilityTimeout", 300)),
    (check_queue_outlives_pusher, "long-timeout", _set("PusherFunction", "Timeout", 900)),
    (check_one_request_in_flight, "concurrency", _set("PusherFunction", "ReservedConcurrentExecutions", 2)),
    (check_one_request_in_flight, "no-reserved", _drop("PusherFunction", "ReservedConcurrentExecutions")),
    (check_one_request_in_flight, "batch-size", _mapping("BatchSize", 10)),
    (check_one_request_in_flight, "no-partial-failures", _mapping("FunctionResponseTypes", [])),
    (check_fifo_queues, "standard-month-queue", _drop("MonthQueue", "FifoQueue")),
    (check_fifo_queues, "standard-dlq", _set("DeadLetterQueue", "FifoQueue", False)),
    (check_fifo_queues, "receive-count", _redrive("maxReceiveCount", 3)),
    (check_fifo_queues, "wrong-dlq", _redrive("deadLetterTargetArn", {"Fn::GetAtt": ["SplitterFailureQueue", "Arn"]})),
    (check_fifo_queues, "content-dedup", _set("MonthQueue", "ContentBasedDeduplication", True)),
    (check_fifo_queues, "unencrypted", _drop("SplitterFailureQueue", "SqsManagedSseEnabled")),
    (check_table, "provisioned", _set("IdempotencyTable", "BillingMode", "PROVISIONED")),
    (check_table, "no-pitr", _no_pitr),
    (check_table, "ttl-attribute", _ttl_attribute),
    (check_table, "no-sse", _drop("IdempotencyTable", "SSESpecification")),
    (check_bucket, "public", _no_public_block),
    (check_bucket, "unversioned", _sub("CreditsBucket", "VersioningConfiguration", "Status", "Suspended")),
    (check_bucket, "unencrypted", _drop("CreditsBucket", "BucketEncryption")),
    (check_bucket, "expires-incoming", _lifecycle_expires_incoming),
    (check_bucket, "tls-not-denied", _deny_condition("true")),
    (check_bucket, "no-bucket-policy", _remove_type("AWS::S3::BucketPolicy")),
    (check_log_groups, "no-log-group", _remove_type("AWS::Logs::LogGroup", lambda name, r: name != "SplitterLogGroup")),
    (check_log_groups, "no-retention", _log_retention),
    (check_alarms, "no-topic", _alarm_without_topic),
    (check_alarms, "wrong-queue", _alarm_on_month_queue),
    (check_alarms, "no-alarms", _remove_type("AWS::CloudWatch::Alarm")),
    (check_no_api_key_in_parameters_or_environment, "key-parameter", _add_parameter),
    (check_no_api_key_in_parameters_or_environment, "key-env", _env("PusherFunction", "CLOUDZERO_API_KEY", "k")),
    (check_no_api_key_in_parameters_or_environment, "literal-env", _env("PusherFunction", "CLOUDZERO_TEST_KEY", "k")),
    (check_no_api_key_in_parameters_or_environment, "secret-literal", _secret_literal),
    (check_no_api_key_in_parameters_or_environment, "splitter-reads-secret", _splitter_reads_secret),
    (check_environment_matches_settings, "missing-required", _env("PusherFunction", "DEAD_LETTER_QUEUE_URL", None)),
    (check_environment_matches_settings, "unread-variable", _env("SplitterFunction", "BATCH_PREFIX", {"Ref": "X"})),
    (check_environment_matches_settings, "wrong-table", _env("PusherFunction", "IDEMPOTENCY_TABLE", {"Ref": "X"})),
    (check_splitter_trigger, "no-prefix", _prefix_filter),
    (check_splitter_trigger, "no-retries", _retries),
    (check_splitter_trigger, "small-tmp", _sub("SplitterFunction", "EphemeralStorage", "Size", 512)),
    (check_runtime, "architecture", _architecture),
    (check_outputs, "missing-output", _drop_output),
]


@pytest.mark.parametrize(
    ("check", "mutate"),
    [(check, mutate) for check, _, mutate in BREAKAGES],
    ids=[f"{check.__name__}-{name}" for check, name, _ in BREAKAGES],
)
def test_check_catches_breakage(
    template: Template, check: Callable[[Template], None], mutate: Callable[[Template], None]
) -> None:
    broken = copy.deepcopy(template)
    mutate(broken)
    with pytest.raises(AssertionError):
        check(broken)


def test_every_check_has_a_breakage() -> None:
    assert {check for check, _, _ in BREAKAGES} == set(CHECKS)


# ---------------------------------------------------------------- linters


def test_sam_validate_lint() -> None:
    sam = Path(sys.executable).with_name("sam")
    result = subprocess.run(
        [str(sam), "validate", "--lint", "--template-file", str(TEMPLATE_PATH)],
        cwd=REPO_ROOT,
        env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "SAM_CLI_TELEMETRY": "0"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_cfn_lint_on_sam_template() -> None:
    problems = lint(TEMPLATE_PATH.read_text(encoding="utf-8"), regions=["us-east-1"])
    assert not problems, "\n".join(str(problem) for problem in problems)


@pytest.mark.parametrize(
    "parameters",
    [{}, {"AlarmTopicArn": "arn:aws:sns:us-east-1:123456789012:alarms", "ColumnMappingsUri": "s3://b-1/c.json"}],
    ids=["defaults", "optional-parameters-set"],
)
def test_cfn_lint_on_transformed_template(parameters: dict[str, str]) -> None:
    problems = lint(json.dumps(transformed_template(parameters)), regions=["us-east-1", "eu-west-1"])
    assert not problems, "\n".join(str(problem) for problem in problems)


def test_cfn_lint_catches_a_queue_shorter_than_its_consumer() -> None:
    """The transformed-template lint is what sees this (cfn-lint on the SAM template does not)."""
    broken = transformed_template()
    props(broken, "MonthQueue")["VisibilityTimeout"] = 60
    assert "E3505" in {problem.rule.id for problem in lint(json.dumps(broken))}  # visibility < timeout


# ---------------------------------------------------------------- parameters, samconfig, events


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("IncomingPrefix", "batches/"),  # the splitter would trigger on its own output
        ("IncomingPrefix", "reports/"),
        ("IncomingPrefix", ""),
        ("IncomingPrefix", "incoming"),  # prefix without its slash also matches "incoming-old/"
        ("KnownAccounts", "12345,678"),
        ("MaxInvalidShare", "1.5"),
        ("Currencies", "usd"),
        ("LogRetentionDays", "42"),
        ("CloudZeroBaseUrl", "api.cloudzero.com"),
        ("ColumnMappingsUri", "https://example.com/x.json"),
        ("CloudZeroConnectionId", "<your-anycost-stream-connection-id>"),  # samconfig.toml's placeholder
    ],
)
def test_parameter_constraints_reject(name: str, value: str) -> None:
    with pytest.raises(ProvisionError):
        parameter_values({"CloudZeroConnectionId": "abc-123", name: value})


def test_parameter_constraints_accept_real_values() -> None:
    values = parameter_values(
        {
            "CloudZeroConnectionId": "0f5b2c7e-1d4a-4c1e-9a57-7b0e2f1c9d3a",
            "KnownAccounts": "073933415963, 062951470133",
            "IncomingPrefix": "uploads/credits/",
            "ColumnMappingsUri": "s3://my-config.bucket/config/columns.json",
            "AlarmTopicArn": "arn:aws:sns:eu-west-1:123456789012:ops-alerts",
            "MaxInvalidShare": "0",
        }
    )
    assert values["LogRetentionDays"] == "365"
    with pytest.raises(ProvisionError, match="CloudZeroConnectionId"):
        parameter_values({})


def test_samconfig() -> None:
    config = tomllib.loads((REPO_ROOT / "samconfig.toml").read_text(encoding="utf-8"))["default"]
    stack_name = config["global"]["parameters"]["stack_name"]
    assert stack_name == stack_name.lower() and len(stack_name) <= 64
    deploy = config["deploy"]["parameters"]
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    assert deploy["resolve_s3"] is True
    assert "region" not in deploy and "region" not in config["global"]["parameters"]
    assert not re.search(r"api.?key|secret", deploy["parameter_overrides"], re.IGNORECASE)


def test_sample_events() -> None:
    s3_event = json.loads((REPO_ROOT / "events/s3-put.json").read_text(encoding="utf-8"))
    (record,) = s3_event["Records"]
    assert record["eventSource"] == "aws:s3" and record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["object"]["key"] == "incoming/credits-2026-01.csv"

    sqs_event = json.loads((REPO_ROOT / "events/sqs-month.json").read_text(encoding="utf-8"))
    (record,) = sqs_event["Records"]
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"].endswith(".fifo")
    assert {"MessageGroupId", "MessageDeduplicationId", "SequenceNumber"} <= set(record["attributes"])
    message = MonthMessage.model_validate_json(record["body"])
    assert message.batch_key == batch_key(message.file.sha256, message.month)
    assert message.file.key.startswith("incoming/")


# ---------------------------------------------------------------- deployed into moto


@pytest.fixture(scope="module")
def stack(aws_endpoint: str) -> StackOutputs:
    return provision_stack("template-test", {"CloudZeroConnectionId": "conn-123"})


def test_provisioned_outputs(stack: StackOutputs) -> None:
    assert stack.cloudzero_connection_id == "conn-123"
    assert stack.parameters["CloudZeroConnectionId"] == "conn-123"
    boto3.client("s3").head_bucket(Bucket=stack.bucket_name)
    assert stack.splitter_function_name != stack.pusher_function_name
    lambda_client = boto3.client("lambda")
    for name in (stack.splitter_function_name, stack.pusher_function_name):
        assert lambda_client.get_function_configuration(FunctionName=name)["Runtime"] == "python3.12"


def test_provisioned_queues(stack: StackOutputs) -> None:
    sqs = boto3.client("sqs")
    month = sqs.get_queue_attributes(QueueUrl=stack.month_queue_url, AttributeNames=["All"])["Attributes"]
    dlq = sqs.get_queue_attributes(QueueUrl=stack.dead_letter_queue_url, AttributeNames=["All"])["Attributes"]
    assert month["QueueArn"] == stack.month_queue_arn and dlq["QueueArn"] == stack.dead_letter_queue_arn
    assert month["FifoQueue"] == "true" and dlq["FifoQueue"] == "true"
    assert month["ContentBasedDeduplication"] == "false"
    assert int(month["VisibilityTimeout"]) == 720
    redrive = json.loads(month["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == stack.dead_letter_queue_arn
    assert int(redrive["maxReceiveCount"]) == 5
    assert int(dlq["MessageRetentionPeriod"]) == 1209600
    failures = sqs.get_queue_attributes(QueueUrl=stack.splitter_failure_queue_url, AttributeNames=["All"])
    assert failures["Attributes"].get("FifoQueue", "false") == "false"
    assert int(failures["Attributes"]["MessageRetentionPeriod"]) == 1209600


def test_provisioned_month_queue_dead_letters_after_five_receives(stack: StackOutputs) -> None:
    sqs = boto3.client("sqs")
    sqs.send_message(
        QueueUrl=stack.month_queue_url,
        MessageBody="{}",
        MessageGroupId=stack.cloudzero_connection_id,
        MessageDeduplicationId="redrive-test",
    )
    for _ in range(5):
        (message,) = sqs.receive_message(QueueUrl=stack.month_queue_url, WaitTimeSeconds=1)["Messages"]
        sqs.change_message_visibility(
            QueueUrl=stack.month_queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    assert "Messages" not in sqs.receive_message(QueueUrl=stack.month_queue_url, WaitTimeSeconds=0)
    (dead,) = sqs.receive_message(QueueUrl=stack.dead_letter_queue_url, WaitTimeSeconds=1)["Messages"]
    sqs.delete_message(QueueUrl=stack.dead_letter_queue_url, ReceiptHandle=dead["ReceiptHandle"])


def test_provisioned_table_and_secret(stack: StackOutputs) -> None:
    ddb = boto3.client("dynamodb")
    table = ddb.describe_table(TableName=stack.idempotency_table_name)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    ttl = ddb.describe_time_to_live(TableName=stack.idempotency_table_name)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiration"}
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=stack.api_key_secret_arn)
    assert secret["SecretString"] == LOCAL_API_KEY


def test_provisioned_stack_reads_like_a_deployed_one(stack: StackOutputs) -> None:
    """Scripts read the stack's Outputs and the functions' configuration, as they would on AWS."""
    (described,) = boto3.client("cloudformation").describe_stacks(StackName=stack.stack_name)["Stacks"]
    outputs = {item["OutputKey"]: item.get("OutputValue") for item in described["Outputs"]}
    assert {key for key, value in outputs.items() if value} >= OUTPUTS
    assert outputs["ApiKeySecretArn"] == stack.api_key_secret_arn
    assert outputs["BucketName"] == stack.bucket_name
    configuration = boto3.client("lambda").get_function_configuration(FunctionName=stack.pusher_function_name)
    variables = configuration["Environment"]["Variables"]
    assert variables["CLOUDZERO_API_KEY_SECRET"] == stack.api_key_secret_arn
    assert variables["CLOUDZERO_CONNECTION_ID"] == "conn-123"
    assert configuration["Timeout"] == 120


def test_provisioned_bucket_sends_incoming_uploads_to_local_queue(stack: StackOutputs) -> None:
    s3, sqs = boto3.client("s3"), boto3.client("sqs")
    assert s3.get_bucket_versioning(Bucket=stack.bucket_name)["Status"] == "Enabled"
    s3.put_object(Bucket=stack.bucket_name, Key="reports/not-a-trigger.json", Body=b"{}")
    s3.put_object(Bucket=stack.bucket_name, Key="incoming/credits-2026-01.csv", Body=b"073933415963,$1.00\n")
    records = []
    for _ in range(5):
        response = sqs.receive_message(QueueUrl=stack.local_upload_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in response.get("Messages", []):
            records += json.loads(message["Body"]).get("Records", [])  # the s3:TestEvent has none
            sqs.delete_message(QueueUrl=stack.local_upload_queue_url, ReceiptHandle=message["ReceiptHandle"])
        if records:
            break
    assert [(r["eventName"], unquote_plus(r["s3"]["object"]["key"])) for r in records] == [
        ("ObjectCreated:Put", "incoming/credits-2026-01.csv")
    ]
    assert records[0]["s3"]["bucket"]["name"] == stack.bucket_name


def test_provisioned_pusher_is_not_invoked_by_moto(stack: StackOutputs) -> None:
    """moto would consume month messages itself; locally the runner drives the pusher."""
    mappings = boto3.client("lambda").list_event_source_mappings(FunctionName=stack.pusher_function_name)
    (mapping,) = mappings["EventSourceMappings"]
    assert mapping["EventSourceArn"] == stack.month_queue_arn
    assert mapping["BatchSize"] == 1
    assert mapping["State"] == "Disabled"


def test_provisioned_environments_load_as_settings(stack: StackOutputs, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("CLOUDZERO_", "IDEMPOTENCY_", "MONTH_", "DEAD_LETTER_")):
            monkeypatch.delenv(name)
    with monkeypatch.context() as patch:
        for name, value in stack.splitter_environment.items():
            patch.setenv(name, value)
        splitter = SplitterSettings()
    assert splitter.month_queue_url == stack.month_queue_url
    assert splitter.idempotency_table == stack.idempotency_table_name
    assert splitter.cloudzero_connection_id == "conn-123"
    assert splitter.incoming_prefix == "incoming/"
    with monkeypatch.context() as patch:
        for name, value in stack.pusher_environment.items():
            patch.setenv(name, value)
        pusher = PusherSettings()
    assert pusher.dead_letter_queue_url == stack.dead_letter_queue_url
    assert pusher.cloudzero_api_key_secret == stack.api_key_secret_arn


def test_provision_is_repeatable(stack: StackOutputs) -> None:
    again = provision_stack("template-test", {"CloudZeroConnectionId": "conn-123"})
    assert again == stack
    with pytest.raises(ProvisionError, match="CloudZeroConnectionId"):
        provision_stack("template-test", {"CloudZeroConnectionId": "other"})


def test_provisioned_optional_parameters_resolve(aws_endpoint: str) -> None:
    """The conditional column-mappings grant and a custom prefix resolve to the ARNs they should."""
    stack = provision_stack(
        "template-test-options",
        {
            "CloudZeroConnectionId": "conn-456",
            "ColumnMappingsUri": "s3://config-bucket/mappings/columns.json",
            "IncomingPrefix": "uploads/credits/",
            "AlarmTopicArn": "arn:aws:sns:us-east-1:123456789012:ops",
        },
    )
    role = boto3.client("lambda").get_function_configuration(FunctionName=stack.splitter_function_name)["Role"]
    document = boto3.client("iam").get_role_policy(RoleName=role.rsplit("/", 1)[-1], PolicyName="credits-bucket")[
        "PolicyDocument"
    ]
    statements = {statement["Sid"]: statement for statement in document["Statement"]}
    assert statements["ReadAndTagIncomingFiles"]["Resource"] == f"arn:aws:s3:::{stack.bucket_name}/uploads/credits/*"
    assert "arn:aws:s3:::config-bucket/mappings/columns.json" in statements["ReadColumnMappings"]["Resource"]
    notification = boto3.client("s3").get_bucket_notification_configuration(Bucket=stack.bucket_name)
    (queue,) = notification["QueueConfigurations"]
    assert queue["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "uploads/credits/"}]
    assert stack.splitter_environment["INCOMING_PREFIX"] == "uploads/credits/"
    assert stack.splitter_environment["COLUMN_MAPPINGS_URI"] == "s3://config-bucket/mappings/columns.json"
