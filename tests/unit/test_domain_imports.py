"""The domain stays apart from AWS: parsing, normalising, batching and the services import no boto3."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "credits_pipeline.formats",
        "credits_pipeline.normalise",
        "credits_pipeline.cbf",
        "credits_pipeline.month_batch",
        "credits_pipeline.splitter",
        "credits_pipeline.pusher",
    ],
)
def test_domain_modules_import_no_boto3(module: str) -> None:
    probe = f"import sys, {module}; print('boto3' in sys.modules, 'pyarrow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.split() == ["False", "False"]
