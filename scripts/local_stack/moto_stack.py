"""moto's server on loopback: real AWS wire protocols over HTTP, reached through AWS_ENDPOINT_URL."""

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.server import ThreadedMotoServer

LOCAL_REGION = "us-east-1"


@contextmanager
def moto_server(port: int = 0) -> Iterator[str]:
    """Start moto on loopback (a free port unless given); point boto3 at it through the standard environment."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    address: Any = server._server.server_address  # type: ignore[union-attr]  # port 0 picks a free one
    host, port = address[0], address[1]
    endpoint = f"http://{host}:{port}"
    saved = {name: os.environ.get(name) for name in _ENVIRONMENT}
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION=LOCAL_REGION,
        AWS_REGION=LOCAL_REGION,
    )
    try:
        yield endpoint
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


_ENVIRONMENT = (
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
)
