#!/usr/bin/env bash
# Runs every check and test tier omnidesk has, the same way on a laptop and in CI:
#   1. cargo fmt --check and clippy -D warnings on the whole workspace;
#   2. the Rust tests: unit and property tests in the domain, app tests, end-to-end tests over
#      the local desk on 127.0.0.1, the sample-event tests;
#   3. no DynamoDB Scan on any request path;
#   4. the SAM template: cfn-lint, sam validate --lint and omnidesk's own template rules.
# Python tools are installed by scripts/python-env.sh into a venv outside the clone.
# Build output goes outside the clone too (CARGO_TARGET_DIR), so fresh clones build warm.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/omnidesk/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

step "format"
cargo fmt --all --check

step "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests"
cargo test --workspace --locked

step "no Scan on request paths"
scripts/check-no-scan.sh

step "template"
scripts/lint-template.sh

step "all green"
