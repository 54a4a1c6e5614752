"""Shared fixtures: moto's server over HTTP for AWS, once per test session."""

from collections.abc import Iterator

import pytest

from local_stack.moto_stack import moto_server


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    """moto's server on loopback; boto3 clients made plainly reach it through AWS_ENDPOINT_URL."""
    with moto_server() as endpoint:
        yield endpoint
