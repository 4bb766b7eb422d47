#!/usr/bin/env bash
# ARCHITECTURE.md §4: no request path scans DynamoDB; cost must grow with what is asked, not with
# what is stored. Fails if any Rust source outside test code calls the Scan API.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
hits="$(grep -rnE '\.scan\(\)|ScanInput|operation::scan' --include='*.rs' shared functions infra 2>/dev/null \
    | grep -vE '/tests?/|/tests\.rs:|_tests\.rs:' || true)"
if [[ -n "$hits" ]]; then
    echo "DynamoDB Scan found on a code path (ARCHITECTURE.md §4 forbids it):" >&2
    echo "$hits" >&2
    exit 1
fi
echo "no Scan calls"
