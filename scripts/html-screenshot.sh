#!/usr/bin/env bash
# Renders a conform HTML report headless to a PNG, to look at it.
#
#   scripts/html-screenshot.sh REPORT.html OUT.png [WIDTHxHEIGHT]
#
# Needs Debian's `chromium` (apt-get install -y chromium). The browser gets a
# throw-away profile and every background network feature off: the page must
# render with no network at all.
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
  echo "usage: $0 REPORT.html OUT.png [WIDTHxHEIGHT]" >&2
  exit 2
fi
report=$1
out=$2
size=${3:-1280x2400}
if [[ ! -f $report ]]; then
  echo "$0: no such file: $report" >&2
  exit 2
fi
browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $browser ]]; then
  echo "$0: chromium not found (apt-get install -y chromium)" >&2
  exit 2
fi

abs_report=$(realpath "$report")
mkdir -p "$(dirname "$out")"
abs_out=$(realpath "$out")
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --hide-scrollbars --user-data-dir="$profile" \
  --window-size="${size/x/,}" --screenshot="$abs_out" "file://$abs_report" \
  >"$profile/chromium.log" 2>&1 || {
    cat "$profile/chromium.log" >&2
    exit 1
  }
if [[ ! -s $abs_out ]]; then
  cat "$profile/chromium.log" >&2
  echo "$0: no screenshot written" >&2
  exit 1
fi
echo "$abs_out"
