#!/usr/bin/env bash
# Creates .venv with Python 3.12 (Lambda's runtime) and installs the project with its dev tools.
# --with-tools also creates .venv-tools with the tools that cannot share .venv (requirements-tools.txt).
# Re-installs a venv only when its inputs changed since its last install.
set -euo pipefail
cd "$(dirname "$0")/.."

# The first Python 3.12 found: on PATH, in pyenv's versions, or in the usual system places.
find_python312() {
  local candidate
  for candidate in python3.12 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12; do
    if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1; then
      "$candidate" -c 'import sys; print(sys.executable)'
      return 0
    fi
  done
  return 1
}

inputs_hash() {
  cat "$@" | sha256sum | cut -d' ' -f1
}

# install_venv DIR HASH PIP_ARGS...: unless DIR was last installed from inputs with this HASH, create it
# (when missing) and pip install PIP_ARGS into it.
install_venv() {
  local venv=$1 hash=$2 python
  shift 2
  if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.installed" 2>/dev/null)" = "$hash" ]; then
    return 0
  fi
  if [ ! -x "$venv/bin/python" ]; then
    if ! python=$(find_python312); then
      echo "bootstrap: Python 3.12 not found (Lambda runs python3.12). Install it, e.g. 'pyenv install 3.12'." >&2
      exit 1
    fi
    echo "bootstrap: creating $venv with $python" >&2
    "$python" -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
  echo "$hash" > "$venv/.installed"
}

install_venv .venv \
  "$(inputs_hash pyproject.toml shared/requirements.txt functions/splitter/requirements.txt functions/pusher/requirements.txt)" \
  -e ".[dev]" -r functions/splitter/requirements.txt -r functions/pusher/requirements.txt

if [ "${1:-}" = "--with-tools" ]; then
  install_venv .venv-tools "$(inputs_hash requirements-tools.txt)" -r requirements-tools.txt
fi
