#!/usr/bin/env bash
# Make docs/review-pack.png: the first page of a review pack of the default data, small.
#   scripts/pack_preview.sh [DB] [PROVIDER]
# DB defaults to data/capacity.duckdb (built by `capwatch demo --build-only` when missing);
# PROVIDER to the provider with the lowest utilisation. Needs chromium and pdftoppm
# (scripts/install-pack-renderer.sh installs both).
set -euo pipefail
cd "$(dirname "$0")/.."
db="${1:-data/capacity.duckdb}"
if [ ! -f "$db" ]; then
    capwatch demo --build-only --db "$db"
fi
provider="${2:-$(capwatch sql "SELECT provider_code FROM utilisation_weekly GROUP BY 1 \
    HAVING sum(capacity_units) > 0 ORDER BY sum(nhs_units) / sum(capacity_units), 1 LIMIT 1" \
    --db "$db" --format csv | tail -n +2 | tr -d '\r\357\273\277"')}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# the preview is not a pack anyone was given: keep it out of the real audit log
CAPWATCH_AUDIT_LOG="$tmp/audit.jsonl" capwatch pack "$provider" --db "$db" --out "$tmp/pack.pdf"
mkdir -p docs
for page in 1 2; do
    pdftoppm -png -r 60 -f "$page" -l "$page" -singlefile "$tmp/pack.pdf" "docs/review-pack-$page"
done
echo "wrote docs/review-pack-1.png and docs/review-pack-2.png (provider $provider)"
