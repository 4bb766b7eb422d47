#!/usr/bin/env bash
# The desk's web pages in a real browser: Debian's Chromium, headless, never a browser
# download.
#
# 1. The survey page, driven over the DevTools protocol by scripts/browser/survey.mjs
#    (Node's built-in WebSocket, no npm package). A customer's path: a chat ticket is
#    solved, the survey goes out, the link opens on a phone-sized screen, a rating is
#    tapped, a comment typed, the form sent; then the recorded answer is checked through the
#    desk and screenshots are kept under $CARGO_TARGET_DIR/test-artifacts/survey/.
# 2. The agent console (console/), built by scripts/console-build.sh (npm ci from the
#    committed lockfile) and served by the same desk at /console/, driven by Playwright
#    (console/tests/): chat and email tickets end to end, a conflict keeping the draft,
#    roles, hostile mail, axe-core on every main screen; screenshots and the benchmark
#    figures under $CARGO_TARGET_DIR/test-artifacts/console/.
# 3. The KPI report: the desk's analytics export runs, /local/report renders in Chromium,
#    the test checks every chart is there and keeps a screenshot in
#    $CARGO_TARGET_DIR/test-artifacts/report/.
#
# Installs Chromium with scripts/system-deps.sh if it is missing. Starts omnidesk-local (in
# memory, on a free port) and Chromium by PID and stops both by PID, also on failure; the
# whole run is bounded by BROWSER_TEST_TIMEOUT seconds (default 600).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/omnidesk/target}"
limit="${BROWSER_TEST_TIMEOUT:-600}"

if [[ "${1:-}" != "--bounded" ]]; then
    exec timeout --kill-after=10 "$limit" "$0" --bounded
fi

OMNIDESK_BROWSER=1 scripts/system-deps.sh
chromium_bin=/usr/lib/chromium/chromium   # the real binary; /usr/bin/chromium is a wrapper
[[ -x "$chromium_bin" ]] || chromium_bin="$(command -v chromium)"
node --experimental-websocket -e 'if (typeof WebSocket !== "function") process.exit(1)' 2>/dev/null ||
    { echo "browser-test: needs Node.js >= 20.10 (built-in WebSocket)" >&2; exit 1; }

# The desk binary as the test run builds it, so this is a no-op after the tests (the
# contract test says why not `cargo build`).
cargo test --workspace --locked --no-run --quiet
scripts/console-build.sh
desk_bin="$CARGO_TARGET_DIR/debug/omnidesk-local"
artifacts="$CARGO_TARGET_DIR/test-artifacts/survey"
work="$(mktemp -d)"
mkdir -p "$artifacts"
desk_pid="" chrome_pid=""
cleanup() {
    if [[ -n "$chrome_pid" ]]; then kill "$chrome_pid" 2>/dev/null || true; wait "$chrome_pid" 2>/dev/null || true; fi
    if [[ -n "$desk_pid" ]]; then kill "$desk_pid" 2>/dev/null || true; wait "$desk_pid" 2>/dev/null || true; fi
    rm -rf "$work"
    return 0
}
trap cleanup EXIT
trap "exit 124" TERM INT

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
sed "s/127.0.0.1:3000/127.0.0.1:$port/g" infra/local/omnidesk.example.toml > "$work/desk.toml"
"$desk_bin" --config "$work/desk.toml" --port "$port" \
    --mail-in "$work/mail-in" --outbox "$work/outbox" --console-dir console/dist --export "$work/export" \
    > "$work/desk.log" 2>&1 &
desk_pid=$!
for _ in $(seq 100); do curl -sf "$base/local/dead-letters" >/dev/null && break; sleep 0.1; done

# A chat ticket, solved by an agent; its survey sent as if an hour had passed.
body="$work/msg.json"
printf '%s' '{"message_id":"b-1","conversation_id":"conv-browser","visitor":{"id":"visitor-browser","name":"Li Wei"},"text":"Where is my parcel?"}' > "$body"
sig="$("$desk_bin" --config "$work/desk.toml" sign --inbox web --body "$body")"
curl -sf "$base/v1/chat/web/messages" -H 'content-type: application/json' -H "$sig" --data-binary @"$body" >/dev/null
agent='Authorization: Bearer local-agent-li-token'
ticket=""
for _ in $(seq 50); do
    customer="$(curl -s -H "$agent" "$base/v1/customers?chat_inbox=web&chat_visitor=visitor-browser" | jq -r '.id // empty')"
    [[ -n "$customer" ]] && ticket="$(curl -s -H "$agent" "$base/v1/tickets?customer=$customer" | jq -c '.tickets[0] // empty')"
    [[ -n "$ticket" ]] && break
    sleep 0.1
done
[[ -n "$ticket" ]] || { echo "browser-test: no ticket" >&2; tail -20 "$work/desk.log" >&2; exit 1; }
number="$(jq .number <<<"$ticket")"
version="$(jq .version <<<"$ticket")"
curl -sf -X PATCH -H "$agent" -H 'content-type: application/json' \
    -d '{"version":'"$version"',"status":"solved"}' "$base/v1/tickets/$number" >/dev/null
curl -sf -X POST "$base/local/surveys/run?ahead_minutes=61" >/dev/null
link=""
for _ in $(seq 50); do
    link="$(curl -s "$base/local/callbacks" |
        jq -r '.[] | select(.callback.kind == "survey" and .callback.conversation_id == "conv-browser") | .callback.text' |
        grep -o 'http[^ ]*/v1/surveys/[^ ]*' || true)"
    [[ -n "$link" ]] && break
    sleep 0.1
done
[[ -n "$link" ]] || { echo "browser-test: no survey link" >&2; exit 1; }

"$chromium_bin" --headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/profile" --remote-debugging-port=0 about:blank > "$work/chromium.log" 2>&1 &
chrome_pid=$!
ws=""
for _ in $(seq 100); do
    if [[ -s "$work/profile/DevToolsActivePort" ]]; then
        ws="ws://127.0.0.1:$(sed -n 1p "$work/profile/DevToolsActivePort")$(sed -n 2p "$work/profile/DevToolsActivePort")"
        break
    fi
    sleep 0.1
done
[[ -n "$ws" ]] || { echo "browser-test: Chromium did not start" >&2; tail -20 "$work/chromium.log" >&2; exit 1; }

node --experimental-websocket --no-warnings scripts/browser/survey.mjs "$ws" "$link" "$artifacts"

# What the desk recorded: the rating tapped and the comment typed, once.
recorded="$(curl -s "$base/local/tickets/$number")"
rating="$(jq '.ticket.survey.answer.rating' <<<"$recorded")"
comment="$(jq -r '.ticket.survey.answer.comment' <<<"$recorded")"
answers="$(jq '[.events[] | select(.type == "survey_answered")] | length' <<<"$recorded")"
if [[ "$rating" != 4 || "$comment" != "Fast and friendly, 谢谢!" || "$answers" != 1 ]]; then
    echo "browser-test: recorded rating=$rating comment=$comment answers=$answers" >&2
    exit 1
fi
echo "browser-test: answer recorded (rating 4, comment kept, one survey_answered event)"
echo "browser-test: screenshots in $artifacts: $(cd "$artifacts" && ls)"
echo "survey: 1 passed, 0 failed"

# The agent console, on the same desk.
console_artifacts="$CARGO_TARGET_DIR/test-artifacts/console"
rm -rf "$console_artifacts"
mkdir -p "$console_artifacts" "$work/outbox"
(cd console && OMNIDESK_BASE="$base" OMNIDESK_OUTBOX="$work/outbox" OMNIDESK_DESK_BIN="$desk_bin" \
    OMNIDESK_CONFIG="$work/desk.toml" CONSOLE_ARTIFACTS="$console_artifacts" CHROMIUM="$chromium_bin" \
    npx --no-install playwright test) || { echo "browser-test: console tests failed; desk log:" >&2; tail -30 "$work/desk.log" >&2; exit 1; }
echo "browser-test: console screenshots and benchmark in $console_artifacts: $(cd "$console_artifacts" && ls | tr "\n" " ")"

# The KPI report of the export, as a person opens it: every chart drawn, nothing external.
report_artifacts="$CARGO_TARGET_DIR/test-artifacts/report"
mkdir -p "$report_artifacts"
curl -sf -X POST "$base/local/export/run" >/dev/null
[[ -s "$work/export/report.html" ]] || { echo "browser-test: no report.html beside the export" >&2; exit 1; }
report_flags=(--headless=new --no-sandbox --disable-gpu --no-first-run --disable-background-networking
    --disable-component-update --disable-sync --user-data-dir="$work/report-profile" --window-size=800,2200)
"$chromium_bin" "${report_flags[@]}" --dump-dom "$base/local/report" > "$work/report.dom" 2>"$work/report.log"
for chart in chart-volume chart-times chart-sla chart-csat chart-complaints chart-categories; do
    grep -q "id=\"$chart\"" "$work/report.dom" ||
        { echo "browser-test: the report has no $chart" >&2; exit 1; }
done
[[ "$(grep -o '<polyline fill="none" stroke="[^"]*" stroke-width="2" points="[0-9]' "$work/report.dom" | wc -l)" -ge 5 ]] || { echo "browser-test: the report's lines are missing" >&2; exit 1; }
"$chromium_bin" "${report_flags[@]}" --screenshot="$report_artifacts/kpi-report.png" "$base/local/report" \
    >>"$work/report.log" 2>&1
[[ -s "$report_artifacts/kpi-report.png" ]] || { echo "browser-test: no report screenshot" >&2; exit 1; }
echo "browser-test: KPI report rendered with its 6 charts; screenshot $report_artifacts/kpi-report.png"
