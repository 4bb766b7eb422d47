#!/usr/bin/env bash
# What one SLA sweep reads and costs: starts moto_server, runs tests/benches/sla_sweep.rs in
# memory (100,000 and 1,000,000 open tickets, 1,000 due) and against moto (20,000 open, 1,000
# due, on the real AWS adapters), stops moto.
#
#   scripts/bench-sla.sh [--moto-open N] [--moto-due M]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/omnidesk/target}"
cargo bench --workspace --locked --bench sla_sweep --no-run
# shellcheck source=moto.sh
source scripts/moto.sh
trap moto_stop EXIT
cargo bench --workspace --locked --bench sla_sweep -- "$@"
