"""Compile a build's Python to bytecode that Lambda uses as it is (`make build` runs it on .aws-sam/build).

`sam build` copies the sources and unzips the wheels without compiling them, and Lambda's code
folders are read-only: without bytecode in the package, every cold start compiles every module it
imports again (measured by `make bench`: about a second of each handler's cold start). The .pyc are
"unchecked-hash": used without comparing the source's timestamp, which unzipping does not keep.
Tracebacks name the files where Lambda puts them (/opt for the layer, /var/task for a function).

    python scripts/compile_build.py [BUILD_DIR]     # default .aws-sam/build
"""

import compileall
import py_compile
import sys
from pathlib import Path

BUILD = Path(__file__).resolve().parents[1] / ".aws-sam" / "build"


def compile_tree(directory: Path, deployed_at: str) -> bool:
    """Compile every .py under `directory`, named `deployed_at/...` in tracebacks; True when all compiled."""
    return bool(
        compileall.compile_dir(
            directory,
            quiet=1,
            workers=1,
            stripdir=str(directory),
            prependdir=deployed_at,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
    )


def compile_build(build: Path) -> bool:
    """Each artifact of a `sam build`: a layer's folder is /opt on Lambda, a function's /var/task."""
    artifacts = [path for path in sorted(build.iterdir()) if path.is_dir()]
    if not artifacts:
        print(f"{build}: no artifacts (run sam build first)", file=sys.stderr)
        return False
    return all(compile_tree(path, "/opt" if path.name.endswith("Layer") else "/var/task") for path in artifacts)


if __name__ == "__main__":
    sys.exit(0 if compile_build(Path(sys.argv[1]) if len(sys.argv) > 1 else BUILD) else 1)
