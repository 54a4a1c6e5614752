"""How an operator command fails: one line that says what to do, and an exit code scripts can test."""

import re

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from credits_pipeline.domain.text import safe_text

EXIT_OK = 0
# The command ran and found a problem (a month not held as sent, a file that is not rejected, ...).
EXIT_PROBLEM = 1
# The command could not run: bad options, no credentials, region, stack or permission.
EXIT_USAGE = 2

_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError", "Forbidden"}
_BAD_CREDENTIALS = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
}


class CommandError(Exception):
    """Stop the command: `str(error)` is the one line for the operator."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def explain(error: BotoCoreError | ClientError, *, region: str | None = None) -> str:
    """An AWS SDK error as one line that says what to fix (credentials, region, permission, endpoint)."""
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return "no AWS credentials: run `aws configure` or `aws sso login`, or pass --profile NAME"
    if isinstance(error, NoRegionError):
        return "no AWS region: pass --region (e.g. --region eu-west-1) or set AWS_REGION"
    if isinstance(error, ProfileNotFound):
        return f"{error}: check --profile or AWS_PROFILE against ~/.aws/config"
    if isinstance(error, EndpointConnectionError):
        endpoint = error.kwargs.get("endpoint_url", "AWS")
        return f"cannot reach {endpoint}: check --region, the network, AWS_ENDPOINT_URL (is `make local-up` running?)"
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code, message = str(details.get("Code", "")), _one_line(str(details.get("Message", "")))
        where = f" in {region}" if region else ""
        if code in _DENIED:
            return (
                f"permission denied{where}: {error.operation_name} ({message or code}): "
                "ask for that permission or use another --profile"
            )
        if code in _BAD_CREDENTIALS:
            return f"AWS refused the credentials ({code}): log in again (`aws sso login`) or check --profile"
        return f"AWS refused {error.operation_name}{where}: {code}: {message}"
    return f"AWS error: {error}"


_TAG = re.compile(r"<[^>]*>")


def _one_line(message: str) -> str:
    """An error's message on one line: an endpoint's HTML error page (a proxy, a local server) as its text."""
    return safe_text(" ".join(_TAG.sub(" ", message).split()), limit=300)
