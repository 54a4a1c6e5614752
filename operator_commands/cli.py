"""What every operator command shares: its options (stack, region, profile), the AWS session they make,
the stack found by name, and failures as one line with an exit code instead of a traceback."""

import argparse
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from credits_pipeline.domain.alerts import DEFAULT_STACK_NAME
from operator_commands.errors import EXIT_USAGE, CommandError, explain
from operator_commands.stack import Stack, describe_stack

__all__ = ["DEFAULT_STACK_NAME", "Target", "command_parser", "open_stack", "run"]


def command_parser(prog: str, description: str, examples: Sequence[str]) -> argparse.ArgumentParser:
    """A parser with the shared options; `--help` ends with the examples."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=description,
        epilog="examples:\n" + "\n".join(f"  {example}" for example in examples),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    aws = parser.add_argument_group("where the stack is")
    aws.add_argument(
        "--stack-name", default=DEFAULT_STACK_NAME, help=f"the deployed stack (default {DEFAULT_STACK_NAME})"
    )
    aws.add_argument("--region", help="AWS region of the stack (default: AWS_REGION or the profile's)")
    aws.add_argument("--profile", help="AWS named profile (default: AWS_PROFILE or the default credentials)")
    return parser


@dataclass(frozen=True)
class Target:
    """The stack a command works on, and the AWS session that reaches it."""

    stack: Stack
    session: boto3.Session


def aws_session(args: argparse.Namespace) -> boto3.Session:
    # AWS_REGION as the AWS CLI v2 reads it (before the profile's region): boto3 reads only AWS_DEFAULT_REGION.
    return boto3.Session(region_name=args.region or os.environ.get("AWS_REGION") or None, profile_name=args.profile)


def open_stack(args: argparse.Namespace) -> Target:
    """The stack named by `--stack-name`, read with the session of `--region`/`--profile`."""
    session = aws_session(args)
    try:
        stack = describe_stack(args.stack_name, session.client("cloudformation"))
    except ClientError as error:
        message = str(error.response.get("Error", {}).get("Message", ""))
        if "does not exist" in message:
            raise CommandError(
                f"no stack named {args.stack_name} in {session.region_name}: check --stack-name and --region "
                "(aws cloudformation list-stacks)"
            ) from error
        raise
    return Target(stack, session)


def run(
    parser: argparse.ArgumentParser, command: Callable[[argparse.Namespace], int], argv: Sequence[str] | None
) -> int:
    """Parse the options and run the command; every failure an operator can fix is one line on stderr.

    Exit codes: what the command returns (0 all well, 1 a problem found), 2 when it could not run.
    """
    args = parser.parse_args(argv)
    try:
        return command(args)
    except CommandError as error:
        print(f"{parser.prog}: {error}", file=sys.stderr)
        return error.exit_code
    except (BotoCoreError, ClientError) as error:
        print(f"{parser.prog}: {explain(error, region=args.region or _default_region())}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader closed the output (`| head`): nothing more to say, and no traceback at exit either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE


def _default_region() -> str | None:
    try:
        return os.environ.get("AWS_REGION") or boto3.Session().region_name
    except BotoCoreError:
        return None
