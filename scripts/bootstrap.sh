#!/usr/bin/env bash
# Creates .venv with Python 3.12 (Lambda's runtime) and installs the project with its dev tools.
# Re-installs only when pyproject.toml or a requirements file changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python312() {
  local candidate
  for candidate in python3.12 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12; do
    if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1; then
      command -v "$candidate" 2>/dev/null || echo "$candidate"
      return 0
    fi
  done
  if PYENV_VERSION=3.12.1 python3.12 -c '' >/dev/null 2>&1; then
    PYENV_VERSION=3.12.1 python3.12 -c 'import sys; print(sys.executable)'
    return 0
  fi
  return 1
}

stamp_inputs="pyproject.toml shared/requirements.txt functions/splitter/requirements.txt functions/pusher/requirements.txt"
wanted=$(cat $stamp_inputs | sha256sum | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ "$(cat .venv/.installed 2>/dev/null)" = "$wanted" ]; then
  exit 0
fi

if [ ! -x .venv/bin/python ]; then
  if ! python=$(find_python312); then
    echo "bootstrap: Python 3.12 not found (Lambda runs python3.12). Install it, e.g. 'pyenv install 3.12'." >&2
    exit 1
  fi
  echo "bootstrap: creating .venv with $python" >&2
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]" \
  -r functions/splitter/requirements.txt -r functions/pusher/requirements.txt
echo "$wanted" > .venv/.installed
