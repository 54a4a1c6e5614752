"""Check a deployment before the first real file, writing nothing.

The API key secret holds a key; CloudZero knows the connection and accepts the key for it (a health
read), its validate endpoint accepts a drop shaped as the pipeline sends them (nothing is written),
the key can read a month back (the pusher's verification needs it); the alert topic has a confirmed
subscription. Each problem is one line with its fix. Exit status: 0 ready, 1 problems found, 2 when the
check cannot run (credentials, region, stack, permission).
"""

import argparse
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from botocore.exceptions import ClientError

from credits_pipeline.adapters.cloudzero import AnyCostClient
from credits_pipeline.domain.cbf import drop_bodies
from credits_pipeline.domain.messages import AccountCreditRow, FileRef, MonthBatch
from credits_pipeline.services.ports import CloudZeroRejected, CloudZeroUnavailable
from credits_pipeline.wiring.settings import DEFAULT_CLOUDZERO_BASE_URL
from operator_commands.cli import Target, command_parser, open_stack, run
from operator_commands.cloudzero import anycost_client, time_left
from operator_commands.errors import EXIT_OK, EXIT_PROBLEM, CommandError

PROG = "credits-preflight"
EXAMPLES = (
    "credits-preflight",
    "credits-preflight --stack-name credits-pipeline --region eu-west-1 --profile ops",
    "python scripts/preflight.py --stack-name credits-pipeline",
)
# What the key must be allowed to do (README, "Deploy"); the one that writes is not tried.
WRITE_SCOPE = "connections:create_billing_anycost_billing_drop"
VALIDATE_SCOPE = "connections:create_billing_anycost_validate_billing_drop"
READ_MONTH_SCOPE = "connections:read_billing_anycost_billing_drops_month"
HEALTH_SCOPE = "connections:read_billing"
# A drop shaped as the pipeline sends them, for the validate endpoint only.
SAMPLE_ACCOUNT = "123456789012"
SAMPLE_COST = Decimal("-0.01")


@dataclass(frozen=True)
class Finding:
    verdict: Literal["ok", "note", "PROBLEM"]
    text: str


def parser() -> argparse.ArgumentParser:
    return command_parser(PROG, __doc__.split("\n\n")[0] if __doc__ else "", EXAMPLES)


def main(argv: list[str] | None = None) -> int:
    return run(parser(), preflight, argv)


def preflight(args: argparse.Namespace) -> int:
    target = open_stack(args)
    stack = target.stack
    base_url = stack.parameters.get("CloudZeroBaseUrl") or DEFAULT_CLOUDZERO_BASE_URL
    print(
        f"stack {stack.name} ({target.session.region_name}): bucket s3://{stack.bucket}/, "
        f"CloudZero connection {stack.connection_id} at {base_url}"
    )
    findings = [*cloudzero_findings(target), *alert_findings(target)]
    for finding in findings:
        print(f"{finding.verdict:<8} {finding.text}")
    problems = sum(finding.verdict == "PROBLEM" for finding in findings)
    if problems:
        print(f"{problems} problem(s): fix them before the first real file")
        return EXIT_PROBLEM
    prefix = stack.incoming_prefix
    print(f"ready: upload the first file with aws s3 cp credits-YYYY-MM.csv s3://{stack.bucket}/{prefix}")
    return EXIT_OK


# ---------------------------------------------------------------- CloudZero


def cloudzero_findings(target: Target) -> Iterator[Finding]:
    secret = target.stack.output("ApiKeySecretArn")
    try:
        client = anycost_client(target)
    except CommandError as error:
        yield Finding("PROBLEM", str(error))
        yield Finding("note", "CloudZero not checked: it needs the key")
        return
    key = _stored_key(target)
    if key != key.strip():
        yield Finding(
            "PROBLEM",
            f"the key in {secret} has spaces or a line break around it, which CloudZero refuses: "
            'store it again without them (--secret-string "$KEY")',
        )
    else:
        yield Finding("ok", f"the API key secret {secret} holds a key")
    connection = target.stack.connection_id
    try:
        yield _health(client, connection)
    except (CloudZeroRejected, CloudZeroUnavailable) as error:
        yield _refused(error, target, HEALTH_SCOPE, "read the connection")
        return  # a wrong key or connection fails every check below the same way
    yield _validate(client, target)
    try:
        for _ in client.month_rows(_this_month(), time_left()):
            break  # the first row read is proof enough; leaving the loop closes the streamed answer
        yield Finding("ok", "the key can read a month back (the pusher verifies every month it sends)")
    except (CloudZeroRejected, CloudZeroUnavailable) as error:
        yield _refused(error, target, READ_MONTH_SCOPE, "read a month back")
    yield Finding("note", f"not tried, it would write: the key also needs {WRITE_SCOPE}")


def _health(client: AnyCostClient, connection: str) -> Finding:
    try:
        client.connection_health(time_left())
        return Finding("ok", f"CloudZero knows connection {connection} and accepts the key for it")
    except CloudZeroRejected as error:
        if error.status != 404:
            raise
    # A 404: an unknown connection, or an endpoint that has no health read (a proxy or an older emulator).
    # Listing the connection's drops tells them apart: a 404 there too raises, reported as an unknown connection.
    client.drops(time_left())
    return Finding(
        "ok",
        f"CloudZero knows connection {connection} and accepts the key for it "
        "(its drops could be listed; this endpoint has no health read)",
    )


def _validate(client: AnyCostClient, target: Target) -> Finding:
    month = _this_month()
    sample = MonthBatch(
        file=FileRef(bucket=target.stack.bucket, key="preflight", sha256="0" * 64),
        month=month,
        credits=[
            AccountCreditRow(
                account_id=SAMPLE_ACCOUNT,
                cost=SAMPLE_COST,
                description=target.stack.parameters.get("CreditDescription") or "AWS credit",
                service=target.stack.parameters.get("CreditService") or "AWSCredits",
            )
        ],
    )
    try:
        errors = [error for body in drop_bodies(sample) for error in client.validate_drop(body, time_left()).errors]
    except (CloudZeroRejected, CloudZeroUnavailable) as error:
        return _refused(error, target, VALIDATE_SCOPE, "validate a drop")
    if errors:
        return Finding(
            "PROBLEM", f"CloudZero's validate endpoint refuses a drop as the pipeline sends it: {'; '.join(errors)}"
        )
    return Finding(
        "ok", f"CloudZero's validate endpoint accepts a drop for {month} as the pipeline sends it (nothing written)"
    )


def _refused(error: CloudZeroRejected | CloudZeroUnavailable, target: Target, scope: str, action: str) -> Finding:
    secret = target.stack.output("ApiKeySecretArn")
    if isinstance(error, CloudZeroUnavailable):
        return Finding("PROBLEM", f"CloudZero did not answer ({error}): check CloudZeroBaseUrl and the network")
    if error.status == 403:
        return Finding(
            "PROBLEM",
            f"CloudZero refused the key to {action} (403: {error.message}): give the key the scope {scope}, "
            f"or store the right key: aws secretsmanager put-secret-value --secret-id {secret} --secret-string <key>",
        )
    if error.status == 404:
        return Finding(
            "PROBLEM",
            f"CloudZero does not know connection {target.stack.connection_id} (404): set the stack parameter "
            "CloudZeroConnectionId to the AnyCost Stream connection's id (Settings > Billing Connections)",
        )
    return Finding("PROBLEM", f"CloudZero refused to {action}: {error}")


def _stored_key(target: Target) -> str:
    secret = target.stack.output("ApiKeySecretArn")
    return target.session.client("secretsmanager").get_secret_value(SecretId=secret).get("SecretString", "")


def _this_month() -> str:
    return datetime.now(UTC).strftime("%Y-%m")


# ---------------------------------------------------------------- alerts


def alert_findings(target: Target) -> Iterator[Finding]:
    topic = target.stack.outputs.get("AlertTopicArn") or target.stack.parameters.get("AlarmTopicArn", "")
    if not topic:
        yield Finding(
            "PROBLEM",
            "alerts reach nobody: the stack has no alert topic; deploy with AlertEmail=you@example.com "
            "(or AlarmTopicArn=<topic>)",
        )
        return
    try:
        pages = target.session.client("sns").get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic)
        subscriptions = [subscription for page in pages for subscription in page.get("Subscriptions", [])]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "NotFound":
            raise
        yield Finding("PROBLEM", f"the alert topic {topic} does not exist: deploy again, or fix AlarmTopicArn")
        return
    confirmed = [s for s in subscriptions if s.get("SubscriptionArn", "").startswith("arn:")]
    pending = [s for s in subscriptions if s not in confirmed]
    if confirmed:
        who = ", ".join(f"{s.get('Protocol')}:{s.get('Endpoint')}" for s in confirmed)
        yield Finding("ok", f"alerts reach {who} (topic {topic})")
    for subscription in pending:
        yield Finding(
            "PROBLEM" if not confirmed else "note",
            f"{subscription.get('Protocol')}:{subscription.get('Endpoint')} has not confirmed its subscription to "
            f"{topic}: open the link in the message AWS sent it",
        )
    if not subscriptions:
        subscribe = f"aws sns subscribe --topic-arn {topic} --protocol email --notification-endpoint you@example.com"
        # AlertEmail subscribes the stack's own topic only (a deploy refuses it beside AlarmTopicArn).
        own = not target.stack.parameters.get("AlarmTopicArn")
        how = f"deploy with AlertEmail=you@example.com, or {subscribe}" if own else subscribe
        nobody = f"alerts reach nobody: nothing is subscribed to the alert topic {topic}"
        yield Finding("PROBLEM", f"{nobody}; {how}; then confirm")
