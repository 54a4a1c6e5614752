"""`make build` ships bytecode Lambda uses as it is, named where Lambda puts the files."""

import importlib.util
import marshal
from pathlib import Path

from compile_build import compile_build

UNCHECKED_HASH = 0b01  # PEP 552: hash-based, source not checked


def _pyc(source: Path) -> Path:
    return Path(importlib.util.cache_from_source(str(source)))


def test_every_artifact_is_compiled_for_where_lambda_puts_it(tmp_path: Path) -> None:
    layer_module = tmp_path / "SharedLayer" / "python" / "credits_pipeline" / "money.py"
    handler = tmp_path / "SplitterFunction" / "app.py"
    for source in (layer_module, handler):
        source.parent.mkdir(parents=True)
        source.write_text("VALUE = 1\n")

    assert compile_build(tmp_path)

    for source, deployed in (
        (layer_module, "/opt/python/credits_pipeline/money.py"),
        (handler, "/var/task/app.py"),
    ):
        data = _pyc(source).read_bytes()
        assert int.from_bytes(data[4:8], "little") == UNCHECKED_HASH  # used even though unzipping changes mtimes
        assert marshal.loads(data[16:]).co_filename == deployed


def test_an_empty_build_fails(tmp_path: Path) -> None:
    assert not compile_build(tmp_path)
