#!/usr/bin/env bash
# What a chat message costs on AWS: starts moto_server, runs the request-accounting bench
# (tests/benches/aws_requests.rs) on N conversations of 3 messages (default 1000), stops moto.
#
#   scripts/bench-aws.sh [conversations] [full]
#
# `full` runs the desk with teams, agents and SLA timers (what they add per message).
#
# A debug build is enough (requests are counted, not timed) and shares the test build's cache.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/omnidesk/target}"
cargo bench --workspace --locked --bench aws_requests --profile dev --no-run
# shellcheck source=moto.sh
source scripts/moto.sh
trap moto_stop EXIT
cargo bench --workspace --locked --bench aws_requests --profile dev -- "${1:-1000}" "${2:-}"
