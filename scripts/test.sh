#!/usr/bin/env bash
# Install what the tests need (Debian's chromium for the browser tests, the `test` extra)
# and run the whole suite: ruff, mypy (strict), import-linter (the layers), then every pytest
# tier (quick, slow and browser; a bare `pytest` runs the quick tier only). Extra arguments go
# to pytest (a later `-m` replaces the one below).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    echo "Installing Debian's chromium for the browser tests ..."
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

python -m pip install --quiet --disable-pip-version-check -e '.[test]'
python -m ruff check .
python -m ruff format --check .
python -m mypy
# lint-imports, run by this python (its script may not be on PATH, e.g. after a --user install)
python -c 'import sys; from importlinter.cli import lint_imports_command as run; sys.exit(run())'
python -m pytest -m "slow or browser or not (slow or browser)" "$@"
