"""Run the whole pipeline on this machine: no AWS account, no Docker, no network.

    python scripts/run_local.py [--file credits-2026-01.csv] [--key "incoming/my file.csv"]
    python scripts/run_local.py --cloudzero-url https://api.cloudzero.com --api-key KEY \\
        --connection-id ID --test-key my-sandbox          # a real connection, in CloudZero's sandbox

Starts moto's server and the CloudZero emulator on loopback, provisions template.yaml's resources,
uploads the file under incoming/, runs splitter and pusher through the local event-source runner,
then prints the run report and what CloudZero now holds for each month.
"""

import argparse
import json
import sys
from pathlib import Path

import boto3

from credits_pipeline.adapters.cloudzero import AnyCostClient
from local_stack.moto_stack import moto_server
from local_stack.provision import LOCAL_API_KEY, LOCAL_CONNECTION_ID
from local_stack.runner import REPO
from local_stack.stack import local_pipeline

SAMPLE = REPO / "events" / "credits-2026-01.csv"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, default=SAMPLE, help="the credits file to upload (default: a sample)")
    parser.add_argument("--key", help="object key to upload as (default: incoming/<file name>)")
    parser.add_argument("--cloudzero-url", help="an AnyCost base URL instead of the local emulator")
    parser.add_argument("--api-key", default=LOCAL_API_KEY)
    parser.add_argument("--connection-id", default=LOCAL_CONNECTION_ID)
    parser.add_argument("--test-key", default="", help="cloudzero-test-key: a sandbox namespace, purged after 1 h")
    args = parser.parse_args(argv)
    if not args.file.is_file():
        print(f"run_local: no such file: {args.file}", file=sys.stderr)
        return 2

    with (
        moto_server() as endpoint,
        local_pipeline(
            cloudzero_url=args.cloudzero_url,
            api_key=args.api_key,
            test_key=args.test_key,
            connection_id=args.connection_id,
        ) as pipeline,
    ):
        print(f"moto server:        {endpoint}")
        print(f"CloudZero endpoint: {pipeline.cloudzero_url} (connection {pipeline.connection_id})")
        key = pipeline.upload(args.file, args.key)
        print(f"uploaded:           s3://{pipeline.bucket}/{key}\n")
        stats = pipeline.runner.run_until_idle()
        print(f"runner:             {stats}\n")
        reports = boto3.client("s3").list_objects_v2(Bucket=pipeline.bucket, Prefix="reports/").get("Contents", [])
        report: dict[str, object] = {}
        for entry in reports:
            body = boto3.client("s3").get_object(Bucket=pipeline.bucket, Key=entry["Key"])["Body"].read()
            report = json.loads(body)
            print(f"run report s3://{pipeline.bucket}/{entry['Key']}:")
            print(json.dumps(report, indent=2))
        client = AnyCostClient(pipeline.cloudzero_url, pipeline.connection_id, args.api_key, test_key=args.test_key)
        months = report.get("months", {})
        assert isinstance(months, dict)
        for month in months:
            rows = client.month_rows(month, remaining=lambda: 60.0)
            print(f"\nCloudZero now holds for {month}: {len(rows)} rows")
            for row in rows:
                print(f"  {row.get('resource/account')}  {row.get('cost/cost'):>14}  {row.get('lineitem/type')}")
        if not reports:
            print("no run report was written", file=sys.stderr)
            return 1
        return 0 if report.get("status") in ("pushed", "duplicate") else 1


if __name__ == "__main__":
    sys.exit(main())
