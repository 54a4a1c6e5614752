"""The domain stays apart from AWS: parsing, normalising, batching and the services import no boto3.

The layer order itself (domain < formats < services < adapters < wiring) is import-linter's contract,
checked by `make lint`; this checks what is actually loaded at run time, lazy imports included. Nor do
they load a Parquet or columnar engine (pyarrow, DuckDB) before a file needs one: the splitter's cold start.
"""

import json
import subprocess
import sys

import pytest

MODULES = [
    "credits_pipeline.formats",
    "credits_pipeline.formats.normalise",
    "credits_pipeline.domain.cbf",
    "credits_pipeline.domain.messages",
    "credits_pipeline.domain.report",
    "credits_pipeline.services.splitter",
    "credits_pipeline.services.pusher",
]
# One fresh interpreter imports the modules in turn and says, after each, what is loaded so far.
PROBE = """
import importlib, json, sys
loaded = {}
for module in sys.argv[1:]:
    importlib.import_module(module)
    loaded[module] = sorted(name for name in ("boto3", "pyarrow", "duckdb") if name in sys.modules)
print(json.dumps(loaded))
"""


@pytest.fixture(scope="module")
def loaded_after_import() -> dict[str, list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *MODULES], capture_output=True, text=True, check=True, timeout=60
    )
    loaded: dict[str, list[str]] = json.loads(result.stdout)
    return loaded


@pytest.mark.parametrize("module", MODULES)
def test_domain_modules_import_no_boto3(module: str, loaded_after_import: dict[str, list[str]]) -> None:
    assert loaded_after_import[module] == []
