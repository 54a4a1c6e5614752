"""What an operator plausibly types wrong gets one line that says what to do, and changes nothing; a redrive that
leaves months behind says so. The commands run against the template's stack in moto's server."""

import logging

import boto3
import pytest

from local_stack.provision import StackOutputs
from operator_commands import redrive, replay, reprocess
from operator_commands.errors import EXIT_PROBLEM, EXIT_USAGE


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    return lines[0]


@pytest.mark.parametrize(
    ("key", "moved"),
    [
        ("credits-2026-02.csv", "aws s3 mv s3://{b}/credits-2026-02.csv s3://{b}/incoming/credits-2026-02.csv"),
        ("credits 2026-02.csv", "aws s3 mv 's3://{b}/credits 2026-02.csv' 's3://{b}/incoming/credits 2026-02.csv'"),
    ],
    ids=["plain key", "key with a space"],
)
def test_a_file_uploaded_outside_the_incoming_prefix_is_not_reprocessed_and_the_move_is_given(
    stack: StackOutputs, capsys: pytest.CaptureFixture[str], key: str, moved: str
) -> None:
    # A common slip: the file dropped at the bucket's root, where S3 tells the splitter nothing.
    s3 = boto3.client("s3")
    s3.put_object(Bucket=stack.bucket_name, Key=key, Body=b"000000000001,$10.00\n")
    before = s3.head_object(Bucket=stack.bucket_name, Key=key)

    code = reprocess.main(["--stack-name", stack.stack_name, "--key", key, "--force"])

    assert code == EXIT_USAGE
    error = _one_line_error(capsys)
    assert "is outside incoming/" in error
    assert moved.format(b=stack.bucket_name) in error  # a command that runs as written in a shell
    after = s3.head_object(Bucket=stack.bucket_name, Key=key)
    assert (after["ETag"], after["LastModified"], after["Metadata"]) == (
        before["ETag"],
        before["LastModified"],
        before["Metadata"],
    )  # not copied


@pytest.mark.parametrize(
    "command",
    [
        ["credits-reprocess", "--key", "s3://{bucket}"],
        ["credits-reprocess", "--key", "s3://{bucket}/"],
        ["credits-replay", "--month", "2026-02", "--file", "s3://{bucket}"],
        ["credits-replay", "--month", "2026-2"],
    ],
    ids=["reprocess s3 bucket only", "reprocess s3 bucket slash", "replay s3 bucket only", "replay month 2026-2"],
)
def test_a_file_or_month_written_wrong_is_one_line_that_says_how_to_write_it(
    stack: StackOutputs, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    main = {"credits-reprocess": reprocess.main, "credits-replay": replay.main}[command[0]]
    given = [part.format(bucket=stack.bucket_name) for part in command[1:]]

    assert main(["--stack-name", stack.stack_name, *given]) == EXIT_USAGE
    error = _one_line_error(capsys)
    assert "(write s3://bucket/key, or the key alone)" in error or "(write YYYY-MM, e.g. 2026-01)" in error


def test_a_copy_redrive_run_again_while_an_interrupted_one_holds_a_message_says_months_remain(
    stack: StackOutputs, capsys: pytest.CaptureFixture[str]
) -> None:
    sqs = boto3.client("sqs")
    for number in range(3):
        sqs.send_message(
            QueueUrl=stack.dead_letter_queue_url,
            MessageBody=f'{{"month": "2026-0{number + 1}"}}',
            MessageGroupId="conn-1",
            MessageDeduplicationId=f"dead-{number}",
        )
    # The first run received a message and was interrupted before sending it on: it stays in flight for a minute,
    # and SQS gives nothing more of its FIFO message group until then.
    held = sqs.receive_message(QueueUrl=stack.dead_letter_queue_url, MaxNumberOfMessages=1, VisibilityTimeout=60)
    assert len(held.get("Messages", [])) == 1

    code = redrive.main(["--stack-name", stack.stack_name, "--method", "copy"])

    assert code == EXIT_PROBLEM
    out = capsys.readouterr().out
    assert "SQS still counts 3 in it" in out and "run this again in a minute" in out


def test_a_native_redrive_sqs_cannot_run_says_to_copy_instead(
    stack: StackOutputs, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # moto has no StartMessageMoveTask, as accounts or endpoints without the native API; its server (in this
    # process) logs the 500 it answers, maybe to a log an earlier test closed: not the command's output.
    monkeypatch.setattr(logging.getLogger("werkzeug"), "disabled", True)
    assert redrive.main(["--stack-name", stack.stack_name, "--method", "native"]) == EXIT_USAGE
    error = _one_line_error(capsys)
    assert "SQS's native redrive (StartMessageMoveTask) failed" in error
    assert error.endswith("run with --method copy, which moves the messages itself")
