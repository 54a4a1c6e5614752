"""template.yaml deployed into moto's CloudFormation: it creates, resolves its expressions, and the
stack reads and behaves the way scripts and the local runner rely on.

moto enforces no IAM or bucket policy: test_policies.py checks those on the template.
"""

import json
import os
from typing import Any, cast
from urllib.parse import unquote_plus

import boto3
import pytest

from credits_pipeline.wiring.settings import PusherSettings, load_settings
from credits_pipeline.wiring.splitter_settings import SplitterSettings
from local_stack.provision import LOCAL_API_KEY, ProvisionError, StackOutputs, provision_stack, transformed_template
from tests.template.cfn import OUTPUTS, props


@pytest.fixture(scope="module")
def stack(aws_endpoint: str) -> StackOutputs:
    return provision_stack("template-test", {"CloudZeroConnectionId": "conn-123"})


def test_provisioned_outputs(stack: StackOutputs) -> None:
    assert stack.cloudzero_connection_id == "conn-123"
    assert stack.parameters["CloudZeroConnectionId"] == "conn-123"
    boto3.client("s3").head_bucket(Bucket=stack.bucket_name)
    assert stack.splitter_function_name != stack.pusher_function_name
    runtime = props(transformed_template(), "PusherFunction")["Runtime"]
    lambda_client = boto3.client("lambda")
    for name in (stack.splitter_function_name, stack.pusher_function_name):
        assert lambda_client.get_function_configuration(FunctionName=name)["Runtime"] == runtime


def test_provisioned_queues(stack: StackOutputs) -> None:
    sqs = boto3.client("sqs")
    month = sqs.get_queue_attributes(QueueUrl=stack.month_queue_url, AttributeNames=["All"])["Attributes"]
    dlq = sqs.get_queue_attributes(QueueUrl=stack.dead_letter_queue_url, AttributeNames=["All"])["Attributes"]
    assert month["QueueArn"] == stack.month_queue_arn and dlq["QueueArn"] == stack.dead_letter_queue_arn
    assert month["FifoQueue"] == "true" and dlq["FifoQueue"] == "true"
    assert json.loads(month["RedrivePolicy"])["deadLetterTargetArn"] == stack.dead_letter_queue_arn
    failures = sqs.get_queue_attributes(QueueUrl=stack.splitter_failure_queue_url, AttributeNames=["All"])
    assert failures["Attributes"].get("FifoQueue", "false") == "false"


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
    assert configuration["Timeout"] == props(transformed_template(), "PusherFunction")["Timeout"]


def test_provisioned_bucket_sends_incoming_uploads_to_local_queue(stack: StackOutputs) -> None:
    s3, sqs = boto3.client("s3"), boto3.client("sqs")
    assert s3.get_bucket_versioning(Bucket=stack.bucket_name)["Status"] == "Enabled"
    s3.put_object(Bucket=stack.bucket_name, Key="reports/not-a-trigger.json", Body=b"{}")
    s3.put_object(Bucket=stack.bucket_name, Key="incoming/credits-2026-01.csv", Body=b"073933415963,$1.00\n")
    records: list[dict[str, Any]] = []
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
        splitter = load_settings(SplitterSettings)
    assert splitter.month_queue_url == stack.month_queue_url
    assert splitter.idempotency_table == stack.idempotency_table_name
    assert splitter.cloudzero_connection_id == "conn-123"
    assert splitter.incoming_prefix == "incoming/"
    with monkeypatch.context() as patch:
        for name, value in stack.pusher_environment.items():
            patch.setenv(name, value)
        pusher = load_settings(PusherSettings)
    assert pusher.dead_letter_queue_url == stack.dead_letter_queue_url
    assert pusher.cloudzero_api_key_secret == stack.api_key_secret_arn


def test_provision_is_repeatable(stack: StackOutputs) -> None:
    again = provision_stack("template-test", {"CloudZeroConnectionId": "conn-123"})
    assert again == stack
    with pytest.raises(ProvisionError, match="CloudZeroConnectionId"):
        provision_stack("template-test", {"CloudZeroConnectionId": "other"})


def test_provisioned_optional_parameters_resolve(aws_endpoint: str) -> None:
    """The conditional grants (column mappings, the given alert topic's key) and a custom prefix resolve to the
    ARNs they should; export delivery allowed deploys too."""
    topic_key = "arn:aws:kms:us-east-1:123456789012:key/0f5b2c7e-1d4a-4c1e-9a57-7b0e2f1c9d3a"
    stack = provision_stack(
        "template-test-options",
        {
            "CloudZeroConnectionId": "conn-456",
            "ColumnMappingsUri": "s3://config-bucket/mappings/columns.json",
            "IncomingPrefix": "uploads/credits/",
            "AlarmTopicArn": "arn:aws:sns:us-east-1:123456789012:ops",
            "AlarmTopicKeyArn": topic_key,
            "AllowAwsExportDelivery": "true",
        },
    )
    role = boto3.client("lambda").get_function_configuration(FunctionName=stack.splitter_function_name)["Role"]
    statements = _role_statements(role, "credits-bucket")
    assert statements["ReadAndTagIncomingFiles"]["Resource"] == f"arn:aws:s3:::{stack.bucket_name}/uploads/credits/*"
    assert "arn:aws:s3:::config-bucket/mappings/columns.json" in statements["ReadColumnMappings"]["Resource"]
    for name in (stack.splitter.name, stack.pusher.name, stack.watchdog.name):
        role = boto3.client("lambda").get_function_configuration(FunctionName=name)["Role"]
        assert _role_statements(role, "alert-topic-key")["PublishAlertsEncrypted"]["Resource"] == topic_key
    notification = boto3.client("s3").get_bucket_notification_configuration(Bucket=stack.bucket_name)
    (queue,) = notification["QueueConfigurations"]
    assert queue["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "uploads/credits/"}]
    assert stack.splitter_environment["INCOMING_PREFIX"] == "uploads/credits/"
    assert stack.splitter_environment["COLUMN_MAPPINGS_URI"] == "s3://config-bucket/mappings/columns.json"


def _role_statements(role_arn: str, policy_name: str) -> dict[str, Any]:
    """A role's inline policy, statement by Sid."""
    policy = boto3.client("iam").get_role_policy(RoleName=role_arn.rsplit("/", 1)[-1], PolicyName=policy_name)
    # botocore decodes the policy document into a dict; the stubs type it as the wire's URL-encoded str.
    document = cast(dict[str, Any], policy["PolicyDocument"])
    return {statement["Sid"]: statement for statement in document["Statement"]}
