"""Run the whole pipeline on this machine once: no AWS account, no Docker, no network.

    python scripts/run_local.py [--file credits-2026-01.csv] [--key "incoming/my file.csv"]
    python scripts/run_local.py --cloudzero-url https://api.cloudzero.com --api-key KEY \\
        --connection-id ID --test-key my-sandbox          # a real connection, in CloudZero's sandbox

Starts moto's server and the CloudZero emulator on loopback, provisions template.yaml's resources,
uploads the file under incoming/, runs splitter and pusher through the local event-source runner, saves
the run report under .local/reports/ (the functions' log lines go to .local/logs/) and ends with one
line: what landed, what was skipped, what failed. Exit status 0 when every month landed.
A CloudZero URL that is not on this machine needs --test-key (the sandbox) or --live (real data).
"""

import argparse
import sys
from pathlib import Path

import boto3

from credits_pipeline.domain.money import format_money
from credits_pipeline.domain.report import RunReport
from local_stack.moto_stack import moto_server
from local_stack.provision import LOCAL_API_KEY, LOCAL_CONNECTION_ID
from local_stack.runner import REPO
from local_stack.session import LOCAL_DIR, is_loopback, log_path, save_report, server_errors_to, verdict
from local_stack.stack import local_pipeline
from operator_commands.text import aligned, month_state, outcome

SAMPLE = REPO / "events" / "credits-2026-01.csv"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, default=SAMPLE, help="the credits file to upload (default: a sample)")
    parser.add_argument("--key", help="object key to upload as (default: incoming/<file name>)")
    parser.add_argument("--cloudzero-url", help="an AnyCost base URL instead of the local emulator")
    parser.add_argument("--api-key", default=LOCAL_API_KEY)
    parser.add_argument("--connection-id", default=LOCAL_CONNECTION_ID)
    parser.add_argument("--test-key", default="", help="cloudzero-test-key: a sandbox namespace, purged after 1 h")
    parser.add_argument("--live", action="store_true", help="send to a remote CloudZero URL without --test-key")
    parser.add_argument("--local-dir", type=Path, default=LOCAL_DIR, help="where reports and logs go (default .local)")
    args = parser.parse_args(argv)
    if not args.file.is_file():
        print(f"run_local: no such file: {args.file}", file=sys.stderr)
        return 2
    if args.cloudzero_url and not is_loopback(args.cloudzero_url) and not args.test_key and not args.live:
        print(
            f"run_local: {args.cloudzero_url} is not on this machine: pass --test-key NAME (CloudZero's sandbox, "
            "purged after an hour) or --live to write real data to the connection",
            file=sys.stderr,
        )
        return 2

    log = log_path(args.local_dir, "run")
    with (
        log.open("w", encoding="utf-8") as function_log,
        moto_server(),
        server_errors_to(function_log),
        local_pipeline(
            cloudzero_url=args.cloudzero_url,
            api_key=args.api_key,
            test_key=args.test_key,
            connection_id=args.connection_id,
            function_log=function_log,
        ) as pipeline,
    ):
        key = pipeline.upload(args.file, args.key)
        print(f"uploaded {args.file.name} as s3://{pipeline.bucket}/{key} (local stack: moto and {_where(args)})")
        pipeline.runner.run_until_idle()
        report = _report_of(pipeline.bucket, key)
    print(f"function logs: {_shown(log)}")
    if report is None:
        print(f"failed: no run report was written for {key} (see the function logs)")
        return 1
    if report.months:
        rows = [
            [month, month_state(state), str(state.accounts), format_money(state.total), state.drop_id or "-"]
            for month, state in sorted(report.months.items())
        ]
        print(aligned(["month", "status", "accounts", "total", "drop id"], rows, right=("accounts", "total")))
    print(f"report: {_shown(save_report(args.local_dir, report))}")
    print(verdict(report))
    return 0 if outcome(report) == "pushed" else 1


def _where(args: argparse.Namespace) -> str:
    if not args.cloudzero_url:
        return "the CloudZero emulator"
    return f"CloudZero's sandbox {args.test_key!r}" if args.test_key else f"CloudZero at {args.cloudzero_url}"


def _shown(path: Path) -> Path:
    return path.relative_to(REPO) if path.is_relative_to(REPO) else path


def _report_of(bucket: str, key: str) -> RunReport | None:
    s3 = boto3.client("s3")
    for entry in s3.list_objects_v2(Bucket=bucket, Prefix="reports/").get("Contents", []):
        report = RunReport.model_validate_json(s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read())
        if report.file.key == key:
            return report
    return None


if __name__ == "__main__":
    sys.exit(main())
