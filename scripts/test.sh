#!/usr/bin/env bash
# Runs every check and test tier omnidesk has, the same way on a laptop and in CI:
#   1. cargo fmt --check and clippy -D warnings on the whole workspace;
#   2. the Rust tests: unit and property tests in the domain, app and AWS adapter tests (AWS
#      error mapping on aws-smithy-mocks), the sample-event tests, and the end-to-end
#      scenarios over the local desk on 127.0.0.1 twice: in memory, and on the real AWS SDK
#      against moto_server, which this script starts on a free port and stops by PID;
#   3. the agent API contract: schemathesis with openapi.yaml against the local desk; the
#      survey page and the agent console (built from console/ with npm ci, driven by
#      Playwright) in headless Chromium (Debian's package, installed by system-deps.sh);
#   4. no DynamoDB Scan on any request path;
#   5. the SAM template: cfn-lint, sam validate --lint and omnidesk's own template rules.
# Python tools are installed by scripts/python-env.sh into a venv outside the clone, and the
# Debian tools the README walk-throughs use (curl, jq) by scripts/system-deps.sh.
# Build output goes outside the clone too (CARGO_TARGET_DIR), so fresh clones build warm.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/omnidesk/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

step "system tools"
scripts/system-deps.sh

step "format"
cargo fmt --all --check

step "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests (memory and moto tiers)"
# Build first, so moto is not kept waiting through a cold compile.
cargo test --workspace --locked --no-run
# The README replay spends two of its minutes waiting, as the SLA walk-through tells a person
# to, for a timer to fall due; it runs beside the other tests rather than after them.
replay_test="readme_walk_throughs_run_as_written_on_one_desk_in_any_order_at_any_hour"
replay_bin="$(cargo test --workspace --locked --no-run --message-format=json 2>/dev/null |
    jq -r 'select(.target.name == "readme_replay" and .executable != null) | .executable')"
[[ -x "$replay_bin" ]] || { echo "test: no readme_replay test binary" >&2; exit 1; }
replay_log="$(mktemp)"
(cd infra/local && exec "$replay_bin" --exact "$replay_test" >"$replay_log" 2>&1) &
replay_pid=$!
# The replay bounds itself (every command has a timeout) and stops its own desks, so on any
# failure from here on (moto not starting included) it is waited for, never orphaned.
stop_background() {
    if declare -F moto_stop >/dev/null; then moto_stop; fi
    wait "$replay_pid" 2>/dev/null || true
}
trap stop_background EXIT
# shellcheck source=moto.sh
source scripts/moto.sh
export OMNIDESK_REQUIRE_MOTO=1
cargo test --workspace --locked -- --skip "$replay_test"
moto_stop
replay_status=0
wait "$replay_pid" || replay_status=$?
trap - EXIT
echo "-- README replay ($replay_test)"
cat "$replay_log"
rm -f "$replay_log"
[[ "$replay_status" == 0 ]] || { echo "test: the README replay failed" >&2; exit 1; }

step "agent API contract (schemathesis)"
scripts/contract-test.sh

step "survey page and agent console in headless Chromium"
scripts/browser-test.sh

step "no Scan on request paths"
scripts/check-no-scan.sh

step "template"
scripts/lint-template.sh

step "all green"
