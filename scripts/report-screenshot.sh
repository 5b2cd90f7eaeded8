#!/usr/bin/env bash
# Render a report's HTML in headless Chromium (Debian's chromium package:
# apt-get install -y chromium) and save a PNG, by default the sample
# report of `make demo` to docs/report-screenshot.png.
#
#   scripts/report-screenshot.sh [REPORT.html [OUT.png]]
set -euo pipefail
cd "$(dirname "$0")/.."
html=${1:-demo-out/report/report.html}
png=${2:-docs/report-screenshot.png}
if [ ! -f "$html" ]; then
  echo "report-screenshot: $html does not exist; run scripts/demo-report.sh (or make demo) first" >&2
  exit 2
fi
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "report-screenshot: no chromium; install it with: apt-get install -y chromium" >&2
  exit 2
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
mkdir -p "$(dirname "$png")"
"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
  --user-data-dir="$profile" --screenshot="$(realpath -m "$png")" --window-size=900,2400 \
  "file://$(realpath "$html")" 2>"$profile/chromium.log" || { cat "$profile/chromium.log" >&2; exit 1; }
echo "report-screenshot: wrote $png"
