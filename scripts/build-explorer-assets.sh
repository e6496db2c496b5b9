#!/usr/bin/env bash
# The explorer's browser library, Cytoscape.js, from the npm registry at the version and integrity hash that
# explorer/package-lock.json pins (`npm ci`), copied into app/explorer/static/vendor/ where the app serves it.
# Nothing is fetched from a CDN at run time. Installs Node.js and npm from the distribution when they are
# missing and we are root. The API does not need the explorer: without npm or the registry this warns and
# exits 0, /explorer says the library is missing, and the explorer's tests fail until it is built.
set -euo pipefail
cd "$(dirname "$0")/.."

dest=app/explorer/static/vendor/cytoscape.min.js

if ! command -v npm >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "explorer-assets: npm is missing; installing nodejs and npm (apt)" >&2
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; } || true
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "explorer-assets: WARNING no npm: /explorer will lack its graph library." \
       "Install Node.js 18+ and npm, then run 'make explorer-assets'." >&2
  exit 0
fi
if ! (cd explorer && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error); then
  echo "explorer-assets: WARNING 'npm ci' failed (is the npm registry reachable?):" \
       "/explorer will lack its graph library until 'make explorer-assets' succeeds." >&2
  exit 0
fi
mkdir -p "$(dirname "$dest")"
cp explorer/node_modules/cytoscape/dist/cytoscape.min.js "$dest"
echo "explorer-assets: $dest (cytoscape $(node -p 'require("./explorer/node_modules/cytoscape/package.json").version'))"
