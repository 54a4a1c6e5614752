"""Keep a local stack running (moto + CloudZero emulator + the runner) to try every operator command on.

    python scripts/local_up.py [--moto-port 5000] [--cloudzero-port 8787]     # make local-up

Prints the environment that points the AWS CLI and every operator command at it, then processes
uploads as they come: each file's outcome and each alert (the stack's alert topic, read through a
local queue) are printed as they happen. Ctrl-C (or `make local-down` from another shell) stops it;
nothing is kept.
"""

import argparse
import json
import os
import signal
import socket
import sys
import time
import uuid
from pathlib import Path
from types import FrameType

import boto3

from credits_pipeline.adapters.dynamodb import FileRecords
from credits_pipeline.domain.alerts import DEFAULT_STACK_NAME
from credits_pipeline.wiring.settings import DEFAULT_IDEMPOTENCY_DAYS
from local_stack.moto_stack import moto_server
from local_stack.pid_file import ENV_FILE, PID_FILE, running_stack
from local_stack.runner import REPO, LocalRunner
from local_stack.session import LOCAL_DIR, log_path, save_report, server_errors_to, shown_state, verdict
from local_stack.stack import local_pipeline

POLL_SECONDS = 0.5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--moto-port", type=int, default=5000)
    parser.add_argument("--cloudzero-port", type=int, default=8787)
    parser.add_argument("--local-dir", type=Path, default=LOCAL_DIR, help="where reports and logs go (default .local)")
    args = parser.parse_args(argv)
    args.local_dir.mkdir(parents=True, exist_ok=True)
    pid_file, env_file = args.local_dir / PID_FILE, args.local_dir / ENV_FILE
    refusal = (
        _already_up(pid_file)
        or _port_taken(args.moto_port, "--moto-port")
        or _port_taken(args.cloudzero_port, "--cloudzero-port")
    )
    if refusal:
        print(f"local-up: {refusal}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupt)  # `make local-down`
    log = log_path(args.local_dir, "local-up")
    try:
        with (
            log.open("w", encoding="utf-8") as function_log,
            moto_server(args.moto_port) as endpoint,
            server_errors_to(function_log),
        ):
            topic, alerts = _alert_topic()
            with local_pipeline(
                parameters={"AlarmTopicArn": topic},
                environment={"ALERT_TOPIC_ARN": topic, "STACK_NAME": DEFAULT_STACK_NAME},
                cloudzero_port=args.cloudzero_port,
                function_log=function_log,
            ) as pipeline:
                exports = {
                    # The operator commands (credits-status, ...) are installed in the project's venv.
                    "PATH": f"{REPO / '.venv' / 'bin'}:$PATH",
                    "AWS_ENDPOINT_URL": endpoint,
                    "AWS_ACCESS_KEY_ID": "testing",
                    "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_SESSION_TOKEN": "testing",
                    "AWS_REGION": os.environ["AWS_REGION"],
                    "AWS_DEFAULT_REGION": os.environ["AWS_DEFAULT_REGION"],
                }
                env_file.write_text("".join(f"export {k}={v}\n" for k, v in exports.items()), encoding="utf-8")
                pid_file.write_text(f"{os.getpid()}\n", encoding="utf-8")
                print(
                    f"local stack {pipeline.stack.name} is up: moto at {endpoint}, CloudZero emulator at "
                    f"{pipeline.cloudzero_url} (connection {pipeline.connection_id})"
                )
                print(f"point the AWS CLI and the operator commands at it (source {_shown(env_file)}):")
                print("".join(f"  export {k}={v}\n" for k, v in exports.items()), end="")
                print(f"then, e.g.:\n  aws s3 cp events/credits-2026-01.csv s3://{pipeline.bucket}/incoming/")
                print(f"  credits-status; credits-verify --month 2026-01; credits-preflight  # {pipeline.stack.name}")
                print(f"function logs: {_shown(log)}; reports: {_shown(args.local_dir / 'reports')}; Ctrl-C stops it")
                _serve(pipeline.runner, pipeline.stack.output("IdempotencyTableName"), alerts, args.local_dir)
    except KeyboardInterrupt:
        print("local stack stopped")
    finally:
        pid_file.unlink(missing_ok=True)
        env_file.unlink(missing_ok=True)
    return 0


def _alert_topic() -> tuple[str, str]:
    """The stack's alert topic, and a local queue subscribed to it (standing in for an email address)."""
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name=f"{DEFAULT_STACK_NAME}-local-alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName=f"{DEFAULT_STACK_NAME}-local-alerts-{uuid.uuid4().hex[:6]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return topic, queue


def _serve(runner: LocalRunner, table: str, alerts: str, local_dir: Path) -> None:
    """Pump uploads and months as Lambda would; print each file's outcome when it changes, and each alert."""
    records = FileRecords(table, expiry_days=DEFAULT_IDEMPOTENCY_DAYS)
    sqs = boto3.client("sqs")
    saved: dict[str, int] = {}
    shown: dict[str, object] = {}
    while True:
        if runner.pump_uploads() + runner.pump_months():
            continue
        for report in reversed(records.recent(50)):
            if not report.settled or saved.get(report.file.sha256) == report.version:
                continue
            saved[report.file.sha256] = report.version
            save_report(local_dir, report)
            if shown.get(report.file.sha256) != (state := shown_state(report)):
                shown[report.file.sha256] = state
                print(f"{report.file.key}: {verdict(report)}")
        for message in sqs.receive_message(QueueUrl=alerts, MaxNumberOfMessages=10).get("Messages", []):
            envelope = json.loads(message["Body"])
            print(f"ALERT {envelope.get('Subject', '')}\n  " + envelope.get("Message", "").replace("\n", "\n  "))
            sqs.delete_message(QueueUrl=alerts, ReceiptHandle=message["ReceiptHandle"])
        time.sleep(POLL_SECONDS)


def _already_up(pid_file: Path) -> str:
    """A stack this folder started that still runs: a second one would take its files and ports."""
    pid = running_stack(pid_file)
    if pid is None:
        return ""
    return f"a local stack is already up (pid {pid}, {_shown(pid_file)}): use it, or `make local-down` first"


def _port_taken(port: int, option: str) -> str:
    """moto's server waits forever for a port it cannot bind: say so before starting."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return (
                f"port {port} is in use by another program: stop it, or pass {option} "
                f"(make local-up ARGS='{option} {port + 1}')"
            )
    return ""


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _shown(path: Path) -> Path:
    return path.relative_to(REPO) if path.is_relative_to(REPO) else path


if __name__ == "__main__":
    sys.exit(main())
