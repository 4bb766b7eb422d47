#!/usr/bin/env bash
# Builds the agent console (console/) into console/dist, which omnidesk-local serves at
# /console/: npm ci from the committed lockfile (no browser download: the tests drive
# Debian's Chromium), a type check and the esbuild bundle. Needs Node.js >= 20 and npm
# (scripts/system-deps.sh installs Debian's with OMNIDESK_BROWSER=1). Skips npm ci when
# node_modules already matches the lockfile.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root/console"
command -v npm >/dev/null 2>&1 || { echo "console-build: needs Node.js 20 and npm (OMNIDESK_BROWSER=1 scripts/system-deps.sh)" >&2; exit 1; }
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# node_modules/.omnidesk-lock: the lockfile the last npm ci installed.
if ! cmp -s package-lock.json node_modules/.omnidesk-lock 2>/dev/null; then
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json node_modules/.omnidesk-lock
fi
npm run --silent build
