"""Every operator command fails the same readable way: one line that says what to fix, exit code 2."""

from collections.abc import Callable
from pathlib import Path
from typing import cast

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from operator_commands import preflight, preview, redrive, replay, reprocess, status, verify
from operator_commands.cli import DEFAULT_STACK_NAME, Target
from operator_commands.errors import explain
from operator_commands.stack import Stack

Main = Callable[[list[str] | None], int]
COMMANDS: list[tuple[str, Main, list[str]]] = [
    ("credits-status", status.main, []),
    ("credits-verify", verify.main, ["--month", "2026-01"]),
    ("credits-reprocess", reprocess.main, ["--key", "incoming/credits-2026-01.csv"]),
    ("credits-replay", replay.main, ["--month", "2026-01"]),
    ("credits-redrive", redrive.main, []),
    ("credits-preflight", preflight.main, []),
    ("credits-preview", preview.main, ["--from-stack"]),
]
PARSERS = [
    status.parser,
    verify.parser,
    reprocess.parser,
    replay.parser,
    redrive.parser,
    preflight.parser,
    preview.parser,
]


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """A machine with no AWS configuration at all (no files, no variables, no instance metadata)."""
    for name in (
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return monkeypatch


def args(extra: list[str], tmp_path: Path, name: str) -> list[str]:
    if name == "credits-preview":
        local = tmp_path / "credits-2026-01.csv"
        local.write_bytes(b"000000000001,$10.00\n")
        return [str(local), *extra]
    return extra


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


@pytest.mark.parametrize(("name", "main", "extra"), COMMANDS, ids=[c[0] for c in COMMANDS])
def test_no_region_is_one_line_and_exit_code_2(
    name: str,
    main: Main,
    extra: list[str],
    no_aws: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(args(extra, tmp_path, name)) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"{name}: no AWS region") and "--region" in line


# The region by the option, or by AWS_REGION alone, as the AWS CLI v2 reads it (boto3 reads only AWS_DEFAULT_REGION).
@pytest.mark.parametrize("region_from", ["--region", "AWS_REGION"])
@pytest.mark.parametrize(("name", "main", "extra"), COMMANDS, ids=[c[0] for c in COMMANDS])
def test_no_credentials_is_one_line_and_exit_code_2(
    name: str,
    main: Main,
    extra: list[str],
    region_from: str,
    no_aws: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if region_from == "AWS_REGION":
        no_aws.setenv("AWS_REGION", "eu-west-1")
    given = ["--region", "eu-west-1"] if region_from == "--region" else []
    assert main([*args(extra, tmp_path, name), *given]) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"{name}: no AWS credentials") and "--profile" in line


def test_an_unknown_profile_is_named(no_aws: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert status.main(["--profile", "nobody", "--region", "eu-west-1"]) == 2
    line = one_line(capsys.readouterr().err)
    assert "nobody" in line and "--profile" in line


def test_a_permission_refused_names_the_call_the_region_and_what_to_do() -> None:
    denied = ClientError(
        {"Error": {"Code": "AccessDenied", "Message": "not authorized to perform: cloudformation:DescribeStacks"}},
        "DescribeStacks",
    )
    line = explain(denied, region="eu-west-1")
    assert line.startswith("permission denied in eu-west-1: DescribeStacks")
    assert "cloudformation:DescribeStacks" in line and "--profile" in line
    expired = ClientError({"Error": {"Code": "ExpiredToken", "Message": "expired"}}, "GetObject")
    assert "aws sso login" in explain(expired)


@pytest.mark.parametrize("build", PARSERS, ids=lambda build: build().prog)
def test_help_shows_an_example_and_the_shared_options(build: Callable[[], object]) -> None:
    parser = build()
    text = parser.format_help()  # type: ignore[attr-defined]
    assert "examples:" in text and f"\n  {parser.prog} " in text  # type: ignore[attr-defined]
    for option in ("--stack-name", "--region", "--profile"):
        assert option in text
    assert DEFAULT_STACK_NAME in text


def test_preflight_names_a_subscription_waiting_for_its_confirmation() -> None:
    topic = "arn:aws:sns:eu-west-1:123456789012:credits-pipeline-alerts"
    sns = boto3.client("sns", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(sns)
    pending = {"SubscriptionArn": "PendingConfirmation", "Protocol": "email", "Endpoint": "ops@example.com"}
    stubber.add_response("list_subscriptions_by_topic", {"Subscriptions": [{**pending, "TopicArn": topic}]})

    class OneClient:  # a boto3 Session that hands out the stubbed SNS client
        def client(self, name: str) -> object:
            assert name == "sns"
            return sns

    stack = Stack("credits-pipeline", {"AlertTopicArn": topic}, {})
    with stubber:
        [finding] = preflight.alert_findings(Target(stack, cast(boto3.Session, OneClient())))
    assert finding.verdict == "PROBLEM"
    assert "email:ops@example.com has not confirmed" in finding.text and "open the link" in finding.text


def test_a_native_redrive_says_it_started_moving_the_messages_and_a_copy_says_it_moved_them() -> None:
    started = redrive.summary(redrive.RedriveResult("native", 3, "task-1"), "credits-dlq.fifo")
    copied = redrive.summary(redrive.RedriveResult("copy", 3), "credits-dlq.fifo")

    assert "redrive started (SQS move task task-1)" in started
    assert "3 month message(s) in credits-dlq.fifo are moving back" in started and "moved" not in started
    assert copied == "redrive by copy: 3 month message(s) moved back to the month queue from credits-dlq.fifo"


@pytest.mark.parametrize("limit", ["0", "-3", "x"])
def test_a_status_limit_below_one_is_refused_not_read_as_no_files(
    limit: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        status.parser().parse_args(["--limit", limit])
    assert exit_.value.code == 2
    assert f"argument --limit: {limit!r}: give a whole number, 1 or more" in capsys.readouterr().err
