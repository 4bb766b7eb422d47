#!/usr/bin/env bash
# Lints the SAM template offline and fails on ANY finding, informational ones included:
#   1. cfn-lint (every rule class: errors, warnings and informational),
#   2. sam validate --lint (SAM's own transform plus cfn-lint's default rules),
#   3. scripts/check-template.py: omnidesk's rules cfn-lint does not check (runtime, build
#      method, partial batch responses, redrive, visibility timeout vs consumer timeout).
# All three run even when one fails, so one pass shows every finding.
#
# Usage: scripts/lint-template.sh [TEMPLATE]   (default: template.yaml at the repo root)
# No AWS account is needed: the script runs with dummy credentials and no AWS config.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
template="${1:-$root/template.yaml}"
[[ -f "$template" ]] || { echo "lint-template: no such template: $template" >&2; exit 2; }

# shellcheck source=python-env.sh
source "$root/scripts/python-env.sh"

# Hermetic and offline: never a real profile, credential or instance metadata lookup.
export SAM_CLI_TELEMETRY=0
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_DEFAULT_PROFILE

failed=()

echo "== cfn-lint $(cfn-lint --version 2>&1 | awk '{print $NF}')"
if cfn-lint --include-checks I --non-zero-exit-code informational --regions us-east-1 -- "$template"; then
    echo "cfn-lint: no findings"
else
    failed+=(cfn-lint)
fi

echo "== sam validate --lint ($(sam --version 2>&1 | awk '{print $NF}'))"
# sam validate prints "<path> is a valid SAM Template" and nothing else when clean; any other
# line (a lint finding, a deprecation) counts as a finding even if the exit code is 0.
if out="$(cd "$root" && sam validate --lint --region us-east-1 --template-file "$template" 2>&1)"; then
    rc=0
else
    rc=$?
fi
printf '%s\n' "$out"
extra="$(printf '%s\n' "$out" | grep -v -e 'is a valid SAM Template$' -e '^[[:space:]]*$' || true)"
if [[ $rc -ne 0 || -n "$extra" ]] || ! grep -q 'is a valid SAM Template$' <<<"$out"; then
    failed+=("sam validate")
fi

echo "== omnidesk template rules"
if python "$root/scripts/check-template.py" --workspace "$root" "$template"; then
    :
else
    failed+=(check-template)
fi

if ((${#failed[@]})); then
    echo "lint-template: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "lint-template: OK"
