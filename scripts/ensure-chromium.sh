#!/usr/bin/env bash
# The explorer's browser tests drive Debian's Chromium with Playwright (never a downloaded browser).
# Install the distribution's chromium when it is missing and we are root. When there is still none:
#   - locally, say so and carry on: those tests are then skipped with this reason, the rest of the suite runs;
#   - in CI (CI=true), fail: a CI run that skipped the browser tests would pass without having tested them.
set -uo pipefail

bin="${IDGRAPH_CHROMIUM:-/usr/bin/chromium}"
[ -x "$bin" ] && exit 0

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ] && [ "$bin" = "/usr/bin/chromium" ]; then
  echo "ensure-chromium: installing Debian's chromium for the explorer's browser tests (apt)" >&2
  export DEBIAN_FRONTEND=noninteractive
  if apt-get update -qq && apt-get install -y -qq chromium >/dev/null && [ -x "$bin" ]; then
    exit 0
  fi
  echo "ensure-chromium: installing the chromium package failed" >&2
fi

case "${CI:-}" in
  true | TRUE | True | 1)
    echo "ensure-chromium: ERROR: no Chromium at $bin, and CI=true: the explorer's browser tests would be" \
         "skipped. Install the chromium package (as root: apt-get install chromium), or set IDGRAPH_CHROMIUM" \
         "to a Chromium binary." >&2
    exit 1
    ;;
esac
echo "ensure-chromium: WARNING: no Chromium at $bin; the explorer's browser tests will be skipped" \
     "(install the chromium package, or set IDGRAPH_CHROMIUM)." >&2
exit 0
