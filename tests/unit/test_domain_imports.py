"""The domain stays apart from AWS: parsing, normalising, batching and the services import no boto3.

The layer order itself (domain < formats < services < adapters < wiring) is import-linter's contract,
checked by `make lint`; this checks what is actually loaded at run time, lazy imports included.
"""

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "credits_pipeline.formats",
        "credits_pipeline.formats.normalise",
        "credits_pipeline.domain.cbf",
        "credits_pipeline.domain.messages",
        "credits_pipeline.domain.report",
        "credits_pipeline.services.splitter",
        "credits_pipeline.services.pusher",
    ],
)
def test_domain_modules_import_no_boto3(module: str) -> None:
    probe = f"import sys, {module}; print('boto3' in sys.modules, 'pyarrow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.split() == ["False", "False"]
