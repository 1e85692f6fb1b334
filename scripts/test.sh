#!/usr/bin/env bash
# Install what the tests need (Debian's chromium for the browser tests, Debian's Java 17 for
# the Spark tests, the `test` and `spark` extras) and run the whole suite: ruff, then pytest.
# Extra arguments go to pytest (e.g. -m "not browser and not spark" for the quick tier).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    echo "Installing Debian's chromium for the browser tests ..."
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
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
python -m pytest "$@"
