"""AWS clients for the functions: one botocore session per process, one client per service.

botocore's own session, not boto3's: boto3 makes every S3 client load s3transfer for its managed
transfers, which nothing here uses (about 50 ms of a cold start). One session, so that every client
shares the models botocore has loaded, and one client per service, so that the records and
Powertools' idempotency layer share the table's. Clients are thread-safe; only making them is not,
and they are made while the function is built. Region, endpoint and credentials come from the
environment, as boto3's would.
"""

from functools import cache
from typing import Any

import botocore.session
from botocore.session import Session


@cache
def aws_session() -> Session:
    return botocore.session.get_session()


@cache
def aws_client(service: str) -> Any:  # each adapter names the client's type (mypy_boto3_*)
    return aws_session().create_client(service)


def forget_clients() -> None:
    """A runner or test that switches stacks in one process makes its clients again."""
    aws_client.cache_clear()
    aws_session.cache_clear()
