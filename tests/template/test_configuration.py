"""What ships beside the template: its parameters' constraints, samconfig.toml, the sample events."""

import json
import re
import tomllib

import pytest

from credits_pipeline.domain.identity import batch_key
from credits_pipeline.domain.messages import MonthMessage
from local_stack.provision import TEMPLATE_PATH, ProvisionError, parameter_values

REPO_ROOT = TEMPLATE_PATH.parent


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
        ("AllowAwsExportDelivery", "yes"),
    ],
)
def test_parameter_constraints_reject(name: str, value: str) -> None:
    with pytest.raises(ProvisionError):
        parameter_values({"CloudZeroConnectionId": "abc-123", name: value})


OPS_TOPIC = "arn:aws:sns:eu-west-1:123456789012:ops-alerts"
OPS_TOPIC_KEY = "arn:aws:kms:eu-west-1:123456789012:key/0f5b2c7e-1d4a-4c1e-9a57-7b0e2f1c9d3a"


@pytest.mark.parametrize(
    ("parameters", "refusal"),
    [
        # The address was silently never subscribed: the deploy says where to subscribe it instead.
        (
            {"AlarmTopicArn": OPS_TOPIC, "AlertEmail": "ops@example.com"},
            r"subscribe the address to your topic \(aws sns subscribe --topic-arn <AlarmTopicArn>",
        ),
        # A key with no topic of its own would be granted for nothing.
        ({"AlarmTopicKeyArn": OPS_TOPIC_KEY}, "Set AlarmTopicArn too"),
        # An alias ARN in an IAM policy does not grant the key it names.
        ({"AlarmTopicArn": OPS_TOPIC, "AlarmTopicKeyArn": "arn:aws:kms:eu-west-1:123456789012:alias/ops"}, "match"),
        ({"AlarmTopicArn": OPS_TOPIC, "AlarmTopicKeyArn": "alias/ops"}, "match"),
    ],
    ids=["email-with-own-topic", "key-without-topic", "key-alias-arn", "key-alias"],
)
def test_parameter_combinations_refused(parameters: dict[str, str], refusal: str) -> None:
    with pytest.raises(ProvisionError, match=refusal):
        parameter_values({"CloudZeroConnectionId": "abc-123", **parameters})


def test_parameter_constraints_accept_real_values() -> None:
    values = parameter_values(
        {
            "CloudZeroConnectionId": "0f5b2c7e-1d4a-4c1e-9a57-7b0e2f1c9d3a",
            "KnownAccounts": "073933415963, 062951470133",
            "IncomingPrefix": "uploads/credits/",
            "ColumnMappingsUri": "s3://my-config.bucket/config/columns.json",
            "AlarmTopicArn": OPS_TOPIC,
            "AlarmTopicKeyArn": OPS_TOPIC_KEY,
            "AllowAwsExportDelivery": "true",
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
