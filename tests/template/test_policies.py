"""What a reviewer of template.yaml cares about, checked on the SAM-transformed CloudFormation:
least privilege, the API key kept secret, encryption and privacy, what is kept and for how long,
one CloudZero request at a time, alarms, and the wiring between the template and the code.

moto enforces none of this, so it is checked statically. Each property is a `check_*` function;
`test_check_catches_breakage` breaks the template in the way the check is about and expects the
check to fail, so no check passes vacuously.
"""

import ast
import inspect
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from credits_pipeline.wiring.settings import PusherSettings, WatchdogSettings
from credits_pipeline.wiring.splitter_settings import SplitterSettings
from local_stack.provision import TEMPLATE_PATH, load_template
from tests.template.cfn import (
    OUTPUTS,
    Template,
    as_list,
    bucket_policy_statements,
    environment,
    granted,
    iam_statements,
    props,
    queue_of_mapping,
    ref_target,
    rendered,
    resolved,
    resources,
    statement_by_sid,
)

# Managed policies SAM attaches: logs, and the SQS event source's receive/delete/attributes.
ALLOWED_MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
}
# AWS advises an SQS event source's visibility timeout of at least six times the function's timeout.
VISIBILITY_TIMEOUT_FACTOR = 6
# The longest SQS keeps a message: 14 days.
SQS_MAX_RETENTION_SECONDS = 1_209_600
FUNCTIONS = ("SplitterFunction", "PusherFunction", "WatchdogFunction")
QUEUES = ("MonthQueue", "DeadLetterQueue", "SplitterFailureQueue")
# An operator's own alert topic (AlarmTopicArn) and the customer managed key that encrypts it (AlarmTopicKeyArn).
EXTERNAL_TOPIC = "arn:aws:sns:eu-west-1:123456789012:ops-alerts"
EXTERNAL_TOPIC_KEY = "arn:aws:kms:eu-west-1:123456789012:key/0f5b2c7e-1d4a-4c1e-9a57-7b0e2f1c9d3a"
# The services that deliver AWS Data Exports (CUR 2.0, FOCUS) and legacy Cost and Usage Reports.
EXPORT_SERVICES = ("bcm-data-exports.amazonaws.com", "billingreports.amazonaws.com")


def settings_fields(kind: type[Any]) -> tuple[set[str], set[str]]:
    """(required, all) environment variable names of a settings class."""
    fields = kind.model_fields
    return (
        {name.upper() for name, info in fields.items() if info.is_required()},
        {name.upper() for name in fields},
    )


# ---------------------------------------------------------------- least privilege


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
    for function in FUNCTIONS:
        for resource in granted(template, function, "s3:PutObject"):
            text = rendered(resource)
            assert text.endswith(('/batches/*"}', '/reports/*"}')), f"{function} may write {text}"
    assert any("/batches/*" in rendered(r) for r in granted(template, "SplitterFunction", "s3:PutObject"))
    sends = {
        function: sorted(str(ref_target(r)) for r in granted(template, function, "sqs:SendMessage"))
        for function in FUNCTIONS
    }
    assert sends == {
        "SplitterFunction": ["MonthQueue", "SplitterFailureQueue"],
        "PusherFunction": ["DeadLetterQueue"],
        "WatchdogFunction": [],
    }


def check_read_targets(template: Template) -> None:
    """The splitter reads back the batches it wrote: an earlier file's upload queues its month again from its
    stored batch (moto grants everything, so only this check sees a missing read)."""
    reads = [rendered(r) for r in granted(template, "SplitterFunction", "s3:GetObject")]
    assert any("/batches/*" in read for read in reads), "the splitter may not read batches/"
    assert any("/reports/*" in read for read in reads), "the splitter may not read reports/"


def check_alarms_reach_the_topic(template: Template) -> None:
    """CloudWatch can publish every alarm to the stack's alert topic: an encrypted topic's key lets it (aws/sns,
    whose policy no one can change, refuses it), and lets each function that publishes alerts."""
    key = props(template, "AlertTopic").get("KmsMasterKeyId")
    if key is None:
        return
    key_id = ref_target(key)
    assert key_id is not None, f"the alert topic's key {key!r} is not the stack's own: CloudWatch cannot use it"
    statements = as_list(props(template, key_id)["KeyPolicy"]["Statement"])
    assert any(
        statement["Effect"] == "Allow"
        and as_list(statement["Principal"].get("Service", [])) == ["cloudwatch.amazonaws.com"]
        and {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(as_list(statement["Action"]))
        for statement in statements
    ), "the topic's key does not let CloudWatch alarms publish"
    deployed = resolved(template, {})
    for function in FUNCTIONS:
        if granted(deployed, function, "sns:Publish"):
            usable = [ref_target(r) for r in granted(deployed, function, "kms:GenerateDataKey")]
            assert key_id in usable, f"{function} cannot publish to the encrypted topic"


def check_alerts_reach_an_external_encrypted_topic(template: Template) -> None:
    """With an operator's topic (AlarmTopicArn) encrypted by a customer managed key (AlarmTopicKeyArn), every
    function that publishes alerts may encrypt them with that key: without it the topic refuses every alert.
    A topic given without a key gets no key grant (an empty key ARN would fail the deploy)."""
    with_key = resolved(template, {"AlarmTopicArn": EXTERNAL_TOPIC, "AlarmTopicKeyArn": EXTERNAL_TOPIC_KEY})
    publishers = [function for function in FUNCTIONS if EXTERNAL_TOPIC in granted(with_key, function, "sns:Publish")]
    assert publishers == list(FUNCTIONS), f"only {publishers} publish alerts to the given topic"
    for function in publishers:
        for action in ("kms:GenerateDataKey", "kms:Decrypt"):
            assert EXTERNAL_TOPIC_KEY in granted(with_key, function, action), (
                f"{function} lacks {action} on the given topic's key: every alert it publishes is refused"
            )
    without_key = resolved(template, {"AlarmTopicArn": EXTERNAL_TOPIC})
    for function in FUNCTIONS:
        keys = granted(without_key, function, "kms:GenerateDataKey")
        assert not keys, f"{function} is granted {keys} though the given topic has no key"


def check_table_access(template: Template) -> None:
    """Both functions may do what Powertools Idempotency and the file records do, on the table only."""
    wanted = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    for function in FUNCTIONS:
        for action in wanted:
            assert [ref_target(r) for r in granted(template, function, action)] == ["IdempotencyTable"], (
                f"{function} lacks {action} on the table"
            )
    # The watchdog reads every file's report once a day, for a month never pushed; no function else scans.
    scans = {function: [ref_target(r) for r in granted(template, function, "dynamodb:Scan")] for function in FUNCTIONS}
    assert scans == {"SplitterFunction": [], "PusherFunction": [], "WatchdogFunction": ["IdempotencyTable"]}


def check_api_key_stays_secret(template: Template) -> None:
    """The key is neither a parameter nor in an environment; only the pusher may read its secret."""
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
    assert "put-secret-value" in secret["Properties"]["Description"]  # how an operator stores the key
    assert [ref_target(r) for r in granted(template, "PusherFunction", "secretsmanager:GetSecretValue")] == [
        "ApiKeySecret"
    ]
    assert not granted(template, "SplitterFunction", "secretsmanager:GetSecretValue")


# ---------------------------------------------------------------- encryption and privacy


def check_encrypted_at_rest(template: Template) -> None:
    bucket = props(template, "CreditsBucket")
    encryption = bucket.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
    assert [rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] for rule in encryption] in (
        ["AES256"],
        ["aws:kms"],
        ["aws:kms:dsse"],
    ), "bucket not encrypted by default"
    assert props(template, "IdempotencyTable").get("SSESpecification", {}).get("SSEEnabled") is True, "table"
    for queue in QUEUES:
        queue_properties = props(template, queue)
        assert queue_properties.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in queue_properties, (
            f"{queue} unencrypted"
        )


def check_bucket_private(template: Template) -> None:
    """No public access, no ACLs, and no request without TLS."""
    bucket = props(template, "CreditsBucket")
    block = bucket["PublicAccessBlockConfiguration"]
    for key in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"):
        assert block.get(key) is True, f"public access: {key}"
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}], "ACLs in use"
    denies = [
        s
        for s in bucket_policy_statements(template)
        if s.get("Effect") == "Deny"  # an Fn::If holds a statement only some stacks have
        and s.get("Principal") in ("*", {"AWS": "*"})
        and "s3:*" in as_list(s["Action"])
        and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") in ("false", False)
    ]
    assert denies, "the bucket policy does not deny requests without TLS"
    covered = [rendered(r) for s in denies for r in as_list(s["Resource"])]
    assert any(text.endswith('"Arn"]}') for text in covered), "bucket-level requests not covered"
    assert any(text.endswith('/*"}') for text in covered), "object requests not covered"


def _service_principals(statement: Template) -> set[str]:
    principal = statement.get("Principal")
    return set(as_list(principal.get("Service", []))) if isinstance(principal, dict) else set()


def check_aws_exports_deliver_only_into_incoming(template: Template) -> None:
    """AllowAwsExportDelivery (off by default) lets this account's AWS Data Exports and legacy CUR do what AWS
    documents they need, and no more: write under the incoming prefix, read the bucket's policy (legacy CUR: its
    ACL too), each only on behalf of an export of this account. The TLS-only deny stays, and the bucket's
    encryption (SSE-S3) needs no key the services are not granted."""
    parameter = template["Parameters"].get("AllowAwsExportDelivery", {})
    assert parameter.get("Default") == "false", "no AllowAwsExportDelivery parameter, off by default"

    def export_statements(values: dict[str, str]) -> list[Template]:
        return [
            statement
            for statement in bucket_policy_statements(resolved(template, values))
            if statement["Effect"] == "Allow" and _service_principals(statement) & set(EXPORT_SERVICES)
        ]

    assert not export_statements({}), "AWS exports may write into the bucket without AllowAwsExportDelivery"
    on = {"AllowAwsExportDelivery": "true", "IncomingPrefix": "uploads/credits/"}
    allowed = export_statements(on)
    check_bucket_private(resolved(template, on))
    grants = {
        (service, action, rendered(resource))
        for statement in allowed
        for service in _service_principals(statement)
        for action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    }
    bucket = rendered({"Fn::GetAtt": ["CreditsBucket", "Arn"]})
    incoming = rendered({"Fn::Sub": "${CreditsBucket.Arn}/uploads/credits/*"})
    wanted = (
        {(service, "s3:PutObject", incoming) for service in EXPORT_SERVICES}
        | {(service, "s3:GetBucketPolicy", bucket) for service in EXPORT_SERVICES}
        | {("billingreports.amazonaws.com", "s3:GetBucketAcl", bucket)}
    )
    assert grants == wanted, f"export services granted {sorted(grants - wanted)}, lacking {sorted(wanted - grants)}"
    for statement in allowed:
        conditions = statement.get("Condition", {})
        accounts = [test["aws:SourceAccount"] for test in conditions.values() if "aws:SourceAccount" in test]
        assert accounts == [{"Ref": "AWS::AccountId"}], f"{statement.get('Sid')}: on behalf of any account's export"
        sources = [
            rendered(arn)
            for operator, test in conditions.items()
            if operator in {"StringLike", "StringEquals", "ArnLike", "ArnEquals"}
            for arn in as_list(test.get("aws:SourceArn", []))
        ]
        assert sources and all(":${AWS::AccountId}:" in arn for arn in sources), f"{statement.get('Sid')}: {sources}"
    encryption = props(template, "CreditsBucket")["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert [rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] for rule in encryption] == ["AES256"], (
        "an SSE-KMS bucket refuses the exports unless its key's policy lets the export services use it"
    )


# ---------------------------------------------------------------- what is kept, and for how long


def check_audit_trail_kept(template: Template) -> None:
    """Uploaded files and reports are never expired (only month batches are), and stay recoverable."""
    bucket = props(template, "CreditsBucket")
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    rules = bucket["LifecycleConfiguration"]["Rules"]
    expiring = [rule for rule in rules if "ExpirationInDays" in rule or "ExpirationDate" in rule]
    assert [rule.get("Prefix") for rule in expiring] == ["batches/"], "only batches/ may expire"
    assert any("NoncurrentVersionExpiration" in rule for rule in rules), "old versions pile up forever"
    for logical_id in ("CreditsBucket", "IdempotencyTable"):
        assert template["Resources"][logical_id].get("DeletionPolicy") == "Retain", f"{logical_id} dies with the stack"


def check_failures_kept(template: Template) -> None:
    """A dead-lettered month or a failed upload waits as long as SQS allows for someone to look."""
    for queue in ("DeadLetterQueue", "SplitterFailureQueue"):
        assert props(template, queue).get("MessageRetentionPeriod") == SQS_MAX_RETENTION_SECONDS, queue


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


# ---------------------------------------------------------------- delivery: in order, once, one at a time


def check_queue_outlives_pusher(template: Template) -> None:
    _, queue = queue_of_mapping(template, "PusherFunction")
    timeout = props(template, "PusherFunction")["Timeout"]
    visibility = props(template, queue)["VisibilityTimeout"]
    assert visibility >= VISIBILITY_TIMEOUT_FACTOR * timeout, (
        f"{queue} VisibilityTimeout {visibility} < {VISIBILITY_TIMEOUT_FACTOR} x pusher Timeout {timeout}"
    )


def check_one_request_in_flight(template: Template) -> None:
    """CloudZero does not support concurrent requests to one connection."""
    pusher = props(template, "PusherFunction")
    assert pusher.get("ReservedConcurrentExecutions") == 1
    mapping, queue = queue_of_mapping(template, "PusherFunction")
    assert queue == "MonthQueue"
    assert mapping.get("BatchSize") == 1
    assert "ReportBatchItemFailures" in mapping.get("FunctionResponseTypes", [])
    assert mapping.get("Enabled", True) is True


def check_months_dead_letter_in_order(template: Template) -> None:
    """Months queue in order (FIFO) and, when they keep failing, dead-letter to a FIFO queue that lets
    only the month queue redrive into it."""
    month, dlq = props(template, "MonthQueue"), props(template, "DeadLetterQueue")
    assert month.get("FifoQueue") is True and dlq.get("FifoQueue") is True
    assert ref_target(month["RedrivePolicy"]["deadLetterTargetArn"]) == "DeadLetterQueue"
    allow = dlq["RedriveAllowPolicy"]
    assert allow["redrivePermission"] == "byQueue"
    (source,) = allow["sourceQueueArns"]
    # The DLQ names the month queue by its ARN, built from the same name the month queue is given.
    assert month["QueueName"]["Fn::Sub"] in source["Fn::Sub"]


def check_splitter_trigger(template: Template) -> None:
    """Uploads under the incoming prefix, and only those, start the splitter; a failed split is retried,
    then its event goes to the failure queue."""
    (notification,) = props(template, "CreditsBucket")["NotificationConfiguration"]["LambdaConfigurations"]
    assert ref_target(notification["Function"]) == "SplitterFunction"
    assert notification["Event"] == "s3:ObjectCreated:*"
    assert notification["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": {"Ref": "IncomingPrefix"}}]
    (invoke,) = [
        c["Properties"]
        for c in resources(template, "AWS::Lambda::EventInvokeConfig").values()
        if ref_target(c["Properties"]["FunctionName"]) == "SplitterFunction"
    ]
    assert invoke["MaximumRetryAttempts"] >= 1
    assert ref_target(invoke["DestinationConfig"]["OnFailure"]["Destination"]) == "SplitterFailureQueue"


# ---------------------------------------------------------------- alarms


def check_alarms(template: Template) -> None:
    """Every way a month or a file can fail raises an alarm on its first occurrence, notifying the
    alert topic (the stack's own, or the one given)."""
    watched: set[tuple[str, str, str]] = set()  # (namespace, metric, dimension value)
    for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
        properties = alarm["Properties"]
        assert properties["ComparisonOperator"] == "GreaterThanThreshold" and properties["Threshold"] == 0
        assert properties["AlarmActions"] == [
            {"Fn::If": ["CreateAlertTopic", {"Ref": "AlertTopic"}, {"Ref": "AlarmTopicArn"}]}
        ]
        # A plain alarm, or metric math over several (the expression's inputs are what it watches).
        queries = properties.get("Metrics", [])
        metrics = [properties] + [query["MetricStat"]["Metric"] for query in queries if "MetricStat" in query]
        for metric in metrics:
            for dimension in metric.get("Dimensions", []):
                value = str(ref_target(dimension["Value"]) or dimension["Value"])
                watched.add((metric["Namespace"], metric["MetricName"], value))
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "DeadLetterQueue") in watched
    # The watchdog consumes that queue (one alert per failure): the alarm counts what arrives in it.
    assert ("AWS/SQS", "NumberOfMessagesSent", "SplitterFailureQueue") in watched
    assert ("AWS/Lambda", "Errors", "PusherFunction") in watched
    # A watchdog run that fails (an alert the topic refused, a check that could not read) is told.
    assert ("AWS/Lambda", "Errors", "WatchdogFunction") in watched
    assert template["Conditions"]["CreateAlertTopic"] == {"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}
    # What the code counts through Powertools Metrics: in its namespace, by each function's service name.
    pusher = environment(template, "PusherFunction")
    namespace = pusher["POWERTOOLS_METRICS_NAMESPACE"]
    for metric in ("PushFailures", "MonthsUnverified"):
        assert (namespace, metric, pusher["POWERTOOLS_SERVICE_NAME"]) in watched, f"no alarm watches {metric}"
    for function in ("SplitterFunction", "PusherFunction", "WatchdogFunction"):
        service = environment(template, function)["POWERTOOLS_SERVICE_NAME"]
        assert (namespace, "AlertsNotDelivered", service) in watched, f"no alarm on {function}'s undelivered alerts"


# ---------------------------------------------------------------- the template and the code agree


def check_idempotency_table(template: Template) -> None:
    """Keyed and expiring the way Powertools Idempotency expects (the file records use the same),
    and recoverable to a point in time."""
    table = props(template, "IdempotencyTable")
    defaults = inspect.signature(DynamoDBPersistenceLayer).parameters
    key, expiry = defaults["key_attr"].default, defaults["expiry_attr"].default
    assert table["KeySchema"] == [{"AttributeName": key, "KeyType": "HASH"}]
    assert {"AttributeName": key, "AttributeType": "S"} in table["AttributeDefinitions"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": expiry, "Enabled": True}
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def check_environment_matches_settings(template: Template) -> None:
    """Each function gets every variable its settings class requires, and nothing it would not read."""
    for function, kind, service in (
        ("SplitterFunction", SplitterSettings, "splitter"),
        ("PusherFunction", PusherSettings, "pusher"),
        ("WatchdogFunction", WatchdogSettings, "watchdog"),
    ):
        names = set(environment(template, function))
        required, known = settings_fields(kind)
        assert required <= names, f"{function} lacks {required - names}"
        unknown = {name for name in names - known if not name.startswith("POWERTOOLS_")}
        assert not unknown, f"{function} sets variables nothing reads: {unknown}"
        assert environment(template, function)["POWERTOOLS_SERVICE_NAME"] == service
    assert environment(template, "SplitterFunction")["MONTH_QUEUE_URL"] == {"Ref": "MonthQueue"}
    assert environment(template, "PusherFunction")["DEAD_LETTER_QUEUE_URL"] == {"Ref": "DeadLetterQueue"}
    for function in FUNCTIONS:
        assert environment(template, function)["IDEMPOTENCY_TABLE"] == {"Ref": "IdempotencyTable"}


def check_functions_run_on_their_layer(template: Template) -> None:
    """Both functions use the shared layer, on a runtime and architecture it is built for."""
    ((layer_id, layer),) = resources(template, "AWS::Lambda::LayerVersion").items()
    for function in resources(template, "AWS::Lambda::Function"):
        properties = props(template, function)
        assert [ref_target(item) for item in properties["Layers"]] == [layer_id]
        assert properties["Runtime"] in layer["Properties"]["CompatibleRuntimes"], function
        assert properties["Architectures"][0] in layer["Properties"]["CompatibleArchitectures"], function


def check_dashboard(template: Template) -> None:
    """One dashboard shows the run history: every metric the functions publish that an operator reads,
    the dead-letter queue's depth, and the last verified month from the pusher's logs."""
    ((_, dashboard),) = resources(template, "AWS::CloudWatch::Dashboard").items()
    body = rendered(dashboard["Properties"]["DashboardBody"])
    for metric in (
        "FilesReceived",
        "FilesRejected",
        "FilesDuplicate",
        "MonthsPushed",
        "MonthsVerified",
        "MonthsUnverified",
        "CreditTotal",
        "AccountsSkipped",
        "PushFailures",
        "ApproximateNumberOfMessagesVisible",
    ):
        assert f'\\"{metric}\\"' in body or f'"{metric}"' in body, f"the dashboard does not show {metric}"
    assert "month verified in CloudZero" in body  # the log line the pusher writes on each verified month


def check_watchdog_tells_each_wait_within_an_hour(template: Template) -> None:
    """The watchdog tells of a wait (ExportWaitHours, from its MinValue of 1 h; a month unpushed a day) only
    when it runs: a daily run told a 1-hour wait up to 24 h late, a 24-hour one up to 48 h."""
    assert int(template["Parameters"]["ExportWaitHours"]["MinValue"]) >= 1
    schedules = [
        rule["Properties"]["ScheduleExpression"]
        for rule in resources(template, "AWS::Events::Rule").values()
        if any(ref_target(target["Arn"]) == "WatchdogFunction" for target in rule["Properties"]["Targets"])
    ]
    assert schedules, "the watchdog has no schedule"
    for schedule in schedules:
        rate = re.fullmatch(r"rate\((\d+) (minutes?|hours?)\)", schedule)
        hourly_cron = re.fullmatch(r"cron\(\d+ \* \* \* \? \*\)", schedule)
        assert hourly_cron or (rate and int(rate[1]) * (60 if rate[2].startswith("hour") else 1) <= 60), schedule


def check_outputs(template: Template) -> None:
    assert set(template["Outputs"]) >= OUTPUTS


CHECKS: list[Callable[[Template], None]] = [
    check_no_wildcard_actions,
    check_write_targets,
    check_read_targets,
    check_table_access,
    check_api_key_stays_secret,
    check_encrypted_at_rest,
    check_bucket_private,
    check_audit_trail_kept,
    check_failures_kept,
    check_log_groups,
    check_queue_outlives_pusher,
    check_one_request_in_flight,
    check_months_dead_letter_in_order,
    check_splitter_trigger,
    check_alarms,
    check_alarms_reach_the_topic,
    check_alerts_reach_an_external_encrypted_topic,
    check_aws_exports_deliver_only_into_incoming,
    check_idempotency_table,
    check_environment_matches_settings,
    check_functions_run_on_their_layer,
    check_dashboard,
    check_watchdog_tells_each_wait_within_an_hour,
    check_outputs,
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_property_holds(template: Template, check: Callable[[Template], None]) -> None:
    check(template)


def test_each_handler_is_defined_in_its_code() -> None:
    """`Handler: module.function` names a function that exists in the function's CodeUri."""
    functions = {
        name: resource["Properties"]
        for name, resource in load_template()["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert set(functions) == set(FUNCTIONS)
    for name, properties in functions.items():
        module, handler = properties["Handler"].rsplit(".", 1)
        source = TEMPLATE_PATH.parent / properties["CodeUri"] / f"{module.replace('.', '/')}.py"
        assert source.is_file(), f"{name}: {source} does not exist"
        tree = ast.parse(source.read_text(encoding="utf-8"))
        defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert handler in defined, f"{name}: {source} defines no function {handler}"


# ---------------------------------------------------------------- each check fails when broken


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
        statement_by_sid(template, sid)["Action"] = action

    return mutate


def _statement_resource(sid: str, resource: Any) -> Callable[[Template], None]:
    def mutate(template: Template) -> None:
        statement_by_sid(template, sid)["Resource"] = resource

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


def _not(logical_id: str) -> Callable[[str, Template], bool]:
    return lambda name, _: name != logical_id


def _splitter_reads_no_batches(template: Template) -> None:
    statement = statement_by_sid(template, "ReadReportsAndBatches")
    statement["Resource"] = [r for r in as_list(statement["Resource"]) if "/batches/*" not in rendered(r)]


def _key_without_cloudwatch(template: Template) -> None:
    policy = props(template, "AlertTopicKey")["KeyPolicy"]
    policy["Statement"] = [s for s in policy["Statement"] if s.get("Sid") != "AlarmsOfThisAccountPublish"]


def _remove_type(
    kind: str, keep: Callable[[str, Template], bool] = lambda name, r: False
) -> Callable[[Template], None]:
    def mutate(template: Template) -> None:
        for name in list(resources(template, kind)):
            if not keep(name, template["Resources"][name]):
                del template["Resources"][name]

    return mutate


def _deletion_policy(logical_id: str, policy: str) -> Callable[[Template], None]:
    def mutate(template: Template) -> None:
        template["Resources"][logical_id]["DeletionPolicy"] = policy

    return mutate


def _deny_condition(value: str) -> Callable[[Template], None]:
    def mutate(template: Template) -> None:
        for statement in bucket_policy_statements(template):
            if statement.get("Effect") == "Deny":
                statement["Condition"]["Bool"]["aws:SecureTransport"] = value

    return mutate


def _key_use(key: str, value: Any) -> Callable[[Template], None]:
    """Sets (or, with None, drops) a top-level attribute of the alert topic key's grant."""

    def mutate(template: Template) -> None:
        if value is None:
            del template["Resources"]["AlertTopicKeyUse"][key]
        else:
            template["Resources"]["AlertTopicKeyUse"][key] = value

    return mutate


def _export_branch(template: Template, sid: str) -> Template:
    """A bucket policy statement that AllowAwsExportDelivery adds (its Fn::If's true branch, not a copy)."""
    for item in bucket_policy_statements(template):
        if "Fn::If" in item and item["Fn::If"][1].get("Sid") == sid:
            branch: Template = item["Fn::If"][1]
            return branch
    raise KeyError(sid)


def _exports_always_allowed(template: Template) -> None:
    for policy in resources(template, "AWS::S3::BucketPolicy").values():
        document = policy["Properties"]["PolicyDocument"]
        document["Statement"] = [item["Fn::If"][1] if "Fn::If" in item else item for item in document["Statement"]]


def _exports_write_anywhere(template: Template) -> None:
    _export_branch(template, "AwsExportsDeliverToIncoming")["Resource"] = {"Fn::Sub": "${CreditsBucket.Arn}/*"}


def _exports_for_any_account(template: Template) -> None:
    del _export_branch(template, "AwsExportsCheckTheBucketPolicy")["Condition"]["StringEquals"]


def _bucket_kms(template: Template) -> None:
    (rule,) = props(template, "CreditsBucket")["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    rule["ServerSideEncryptionByDefault"] = {"SSEAlgorithm": "aws:kms"}


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


def _acls_enabled(template: Template) -> None:
    props(template, "CreditsBucket")["OwnershipControls"]["Rules"] = [{"ObjectOwnership": "ObjectWriter"}]


def _no_pitr(template: Template) -> None:
    props(template, "IdempotencyTable")["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] = False


def _ttl_attribute(template: Template) -> None:
    props(template, "IdempotencyTable")["TimeToLiveSpecification"]["AttributeName"] = "ttl"


def _key_attribute(template: Template) -> None:
    props(template, "IdempotencyTable")["KeySchema"] = [{"AttributeName": "pk", "KeyType": "HASH"}]


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
    statement_by_sid(template, "QueueMonths")["Action"] = ["sqs:SendMessage", "secretsmanager:GetSecretValue"]
    statement_by_sid(template, "QueueMonths")["Resource"] = [{"Fn::GetAtt": ["MonthQueue", "Arn"]}]


def _push_failures_elsewhere(template: Template) -> None:
    props(template, "PushFailuresAlarm")["Namespace"] = "SomethingElse"


def _drop_output(template: Template) -> None:
    del template["Outputs"]["DeadLetterQueueArn"]


def _drop_table_grant(template: Template) -> None:
    statement_by_sid(template, "IdempotencyAndFileState")["Action"] = ["dynamodb:GetItem", "dynamodb:PutItem"]


def _architecture(template: Template) -> None:
    props(template, "PusherFunction")["Architectures"] = ["x86_64"]


def _dashboard_without(metric: str) -> Callable[[Template], None]:
    def mutate(template: Template) -> None:
        ((_, dashboard),) = resources(template, "AWS::CloudWatch::Dashboard").items()
        dashboard["Properties"]["DashboardBody"] = json.loads(
            json.dumps(dashboard["Properties"]["DashboardBody"]).replace(metric, "Other")
        )

    return mutate


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
    (check_api_key_stays_secret, "key-parameter", _add_parameter),
    (check_api_key_stays_secret, "key-env", _env("PusherFunction", "CLOUDZERO_API_KEY", "k")),
    (check_api_key_stays_secret, "literal-env", _env("PusherFunction", "CLOUDZERO_TEST_KEY", "k")),
    (check_api_key_stays_secret, "secret-literal", _secret_literal),
    (check_api_key_stays_secret, "splitter-reads-secret", _splitter_reads_secret),
    (check_encrypted_at_rest, "bucket", _drop("CreditsBucket", "BucketEncryption")),
    (check_encrypted_at_rest, "table", _drop("IdempotencyTable", "SSESpecification")),
    (check_encrypted_at_rest, "queue", _drop("SplitterFailureQueue", "SqsManagedSseEnabled")),
    (check_bucket_private, "public", _no_public_block),
    (check_bucket_private, "acls", _acls_enabled),
    (check_bucket_private, "tls-not-denied", _deny_condition("true")),
    (check_bucket_private, "no-bucket-policy", _remove_type("AWS::S3::BucketPolicy")),
    (check_audit_trail_kept, "unversioned", _sub("CreditsBucket", "VersioningConfiguration", "Status", "Suspended")),
    (check_audit_trail_kept, "expires-incoming", _lifecycle_expires_incoming),
    (check_audit_trail_kept, "bucket-deleted-with-stack", _deletion_policy("CreditsBucket", "Delete")),
    (check_failures_kept, "dlq", _set("DeadLetterQueue", "MessageRetentionPeriod", 345_600)),
    (check_failures_kept, "failure-queue", _drop("SplitterFailureQueue", "MessageRetentionPeriod")),
    (check_log_groups, "no-log-group", _remove_type("AWS::Logs::LogGroup", lambda name, r: name != "SplitterLogGroup")),
    (check_log_groups, "no-retention", _log_retention),
    (check_queue_outlives_pusher, "short-visibility", _set("MonthQueue", "VisibilityTimeout", 300)),
    (check_queue_outlives_pusher, "long-timeout", _set("PusherFunction", "Timeout", 900)),
    (check_one_request_in_flight, "concurrency", _set("PusherFunction", "ReservedConcurrentExecutions", 2)),
    (check_one_request_in_flight, "no-reserved", _drop("PusherFunction", "ReservedConcurrentExecutions")),
    (check_one_request_in_flight, "batch-size", _mapping("BatchSize", 10)),
    (check_one_request_in_flight, "no-partial-failures", _mapping("FunctionResponseTypes", [])),
    (check_months_dead_letter_in_order, "standard-month-queue", _drop("MonthQueue", "FifoQueue")),
    (check_months_dead_letter_in_order, "standard-dlq", _set("DeadLetterQueue", "FifoQueue", False)),
    (
        check_months_dead_letter_in_order,
        "wrong-dlq",
        _redrive("deadLetterTargetArn", {"Fn::GetAtt": ["SplitterFailureQueue", "Arn"]}),
    ),
    (check_splitter_trigger, "no-prefix", _prefix_filter),
    (check_splitter_trigger, "no-retries", _retries),
    (check_read_targets, "splitter-batches", _splitter_reads_no_batches),
    (check_alarms_reach_the_topic, "aws-managed-key", _set("AlertTopic", "KmsMasterKeyId", "alias/aws/sns")),
    (check_alarms_reach_the_topic, "no-cloudwatch-grant", _key_without_cloudwatch),
    (
        check_alarms_reach_the_topic,
        "functions-cannot-encrypt",
        _remove_type("AWS::IAM::Policy", _not("AlertTopicKeyUse")),
    ),
    (
        check_alerts_reach_an_external_encrypted_topic,
        "grant-only-with-own-topic",
        _key_use("Condition", "CreateAlertTopic"),
    ),
    (
        check_alerts_reach_an_external_encrypted_topic,
        "grant-names-own-key-only",
        _statement_resource("PublishAlertsEncrypted", {"Fn::GetAtt": ["AlertTopicKey", "Arn"]}),
    ),
    (check_alerts_reach_an_external_encrypted_topic, "empty-key-granted", _key_use("Condition", None)),
    (check_aws_exports_deliver_only_into_incoming, "always-allowed", _exports_always_allowed),
    (check_aws_exports_deliver_only_into_incoming, "whole-bucket", _exports_write_anywhere),
    (check_aws_exports_deliver_only_into_incoming, "any-account", _exports_for_any_account),
    (check_aws_exports_deliver_only_into_incoming, "kms-bucket", _bucket_kms),
    (check_alarms, "no-topic", _alarm_without_topic),
    (check_alarms, "wrong-queue", _alarm_on_month_queue),
    (check_alarms, "no-alarms", _remove_type("AWS::CloudWatch::Alarm")),
    (check_alarms, "push-failures-elsewhere", _push_failures_elsewhere),
    (check_idempotency_table, "no-pitr", _no_pitr),
    (check_idempotency_table, "ttl-attribute", _ttl_attribute),
    (check_idempotency_table, "key-attribute", _key_attribute),
    (check_environment_matches_settings, "missing-required", _env("PusherFunction", "DEAD_LETTER_QUEUE_URL", None)),
    (check_environment_matches_settings, "unread-variable", _env("SplitterFunction", "BATCH_PREFIX", {"Ref": "X"})),
    (check_environment_matches_settings, "wrong-table", _env("PusherFunction", "IDEMPOTENCY_TABLE", {"Ref": "X"})),
    (check_functions_run_on_their_layer, "architecture", _architecture),
    (check_functions_run_on_their_layer, "runtime", _set("SplitterFunction", "Runtime", "python3.13")),
    (check_outputs, "missing-output", _drop_output),
    (
        check_watchdog_tells_each_wait_within_an_hour,
        "daily",
        _set("WatchdogFunctionHourly", "ScheduleExpression", "cron(0 9 * * ? *)"),
    ),
    (
        check_watchdog_tells_each_wait_within_an_hour,
        "every-2-hours",
        _set("WatchdogFunctionHourly", "ScheduleExpression", "rate(2 hours)"),
    ),
    (check_dashboard, "no-verified-months", _dashboard_without("MonthsVerified")),
]


@pytest.mark.parametrize(
    ("check", "mutate"),
    [(check, mutate) for check, _, mutate in BREAKAGES],
    ids=[f"{check.__name__}-{name}" for check, name, _ in BREAKAGES],
)
def test_check_catches_breakage(
    template: Template, check: Callable[[Template], None], mutate: Callable[[Template], None]
) -> None:
    mutate(template)
    with pytest.raises(AssertionError):
        check(template)


def test_every_check_has_a_breakage() -> None:
    assert {check for check, _, _ in BREAKAGES} == set(CHECKS)
