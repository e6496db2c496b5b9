#!/usr/bin/env bash
# The explorer's browser test drives Debian's Chromium with Playwright (never a downloaded browser).
# Install the distribution's chromium when it is missing and we are root; otherwise say so and carry on:
# that one test is then skipped with this reason, the rest of the suite runs.
set -uo pipefail

bin="${IDGRAPH_CHROMIUM:-/usr/bin/chromium}"
[ -x "$bin" ] && exit 0

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ] && [ "$bin" = "/usr/bin/chromium" ]; then
  echo "ensure-chromium: installing Debian's chromium for the explorer's browser test (apt)" >&2
  export DEBIAN_FRONTEND=noninteractive
  if apt-get update -qq && apt-get install -y -qq chromium >/dev/null; then
    exit 0
  fi
fi
echo "ensure-chromium: no Chromium at $bin; the explorer's browser test will be skipped" \
     "(install the chromium package, or set IDGRAPH_CHROMIUM)." >&2
exit 0
