#!/usr/bin/env bash
# Install what the tests need (Debian's chromium for the browser tests and the review pack,
# poppler-utils for its preview, Debian's Java 17 for
# the Spark tests, the `test` and `spark` extras) and run the whole suite: ruff, mypy (strict),
# import-linter (the layers), then every pytest tier (quick, slow, browser and spark; a bare
# `pytest` runs the quick tier only). Extra arguments go to pytest (a later `-m` replaces the
# ones below).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    echo "Installing Debian's chromium for the browser tests ..."
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

if ! command -v pdftoppm >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    echo "Installing Debian's poppler-utils (pdftoppm) for the review pack preview ..."
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq poppler-utils >/dev/null
fi

if ! command -v java >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    echo "Installing Debian's Java 17 for the Spark tests ..."
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi

python -m pip install --quiet --disable-pip-version-check -e '.[test,spark]'
python -m ruff check .
python -m ruff format --check .
python -m mypy
# lint-imports, run by this python (its script may not be on PATH, e.g. after a --user install)
python -c 'import sys; from importlinter.cli import lint_imports_command as run; sys.exit(run())'
# The quick tier in parallel (pytest-xdist, one worker per core: every test keeps to its own
# tmp_path and audit log and takes free ports); the slow, browser and Spark tiers one at a
# time (they kill and race processes, start servers or a JVM, and wait on the clock).
python -m pytest -n auto "$@"
python -m pytest -m "slow or browser or spark" "$@"
