#!/usr/bin/env bash
# The Node.js clients the API tests drive (tests/api/test_client_sdks.py): @segment/analytics-node from the
# npm registry at the version and integrity hash tests/node/package-lock.json pins (`npm ci`), into
# tests/node/node_modules. Re-installs only when the lockfile is newer than the install. Installs Node.js and
# npm from the distribution when they are missing and we are root. Without npm it says so and exits 0: the
# Node.js client's tests then skip with that reason. A failing `npm ci` (no registry) fails.
set -euo pipefail
cd "$(dirname "$0")/../tests/node"

stamp=node_modules/.installed-stamp

if ! command -v npm >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "test-clients: npm is missing; installing nodejs and npm (apt)" >&2
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; } || true
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "test-clients: WARNING no npm: the @segment/analytics-node tests will skip." \
       "Install Node.js 18+ and npm, then run 'scripts/install-test-clients.sh'." >&2
  exit 0
fi
if [ -f "$stamp" ] && [ "$stamp" -nt package-lock.json ] && [ "$stamp" -nt package.json ]; then
  exit 0
fi
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
touch "$stamp"
echo "test-clients: tests/node/node_modules (@segment/analytics-node" \
     "$(node -p 'require("./node_modules/@segment/analytics-node/package.json").version'))"
