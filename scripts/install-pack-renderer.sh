#!/usr/bin/env bash
# Install what prints the contract review pack (`capwatch pack`): Debian's chromium (driven
# headless by the `playwright` Python package, which downloads no browser of its own) and
# poppler-utils (pdftoppm, for scripts/pack_preview.sh). Debian/Ubuntu; needs root or sudo.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
if [ ${#missing[@]} -eq 0 ]; then
    echo "chromium and poppler-utils are installed"
    exit 0
fi
echo "Installing ${missing[*]} ..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
echo "installed ${missing[*]}"
