#!/usr/bin/env bash
# Installs the few Debian tools the tests use beyond Rust and the Python venv, once:
# curl and jq (the README walk-throughs, which a test replays, use both), and with
# OMNIDESK_BROWSER=1 Debian's chromium, Node.js with npm and a CJK font (the browser test, scripts/browser-test.sh; never a
# browser download of a test tool's own). Idempotent: a tool already there is left alone.
# Sourced or run by scripts/test.sh.
set -euo pipefail

missing=()
for tool in curl jq; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [[ "${OMNIDESK_BROWSER:-}" == 1 ]]; then
    [[ -x /usr/lib/chromium/chromium ]] || missing+=(chromium)
    # The DevTools driver runs on Node's built-in WebSocket; the pages show Chinese text,
    # which renders as empty boxes in the screenshots without a CJK font.
    command -v node >/dev/null 2>&1 || missing+=(nodejs)
    # The console's build and its Playwright tests come from npm (console/package-lock.json).
    command -v npm >/dev/null 2>&1 || missing+=(npm)
    [[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ]] || missing+=(fonts-wqy-zenhei)
fi
if ((${#missing[@]})); then
    echo "system-deps: installing ${missing[*]} from Debian's packages"
    sudo=""
    [[ "$(id -u)" == 0 ]] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
