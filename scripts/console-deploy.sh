#!/usr/bin/env bash
# Uploads the agent console to a deployed stack: builds console/dist, writes its config.json
# from the stack's outputs (the user pool and app client it signs in with, the API's URL),
# syncs the files into the private ConsoleBucket (hashed chunks cached for a year, the page,
# entry and config revalidated every time) and invalidates CloudFront's copies of the
# unhashed files. Needs the AWS CLI with credentials for the stack's account.
#   scripts/console-deploy.sh STACK_NAME
set -euo pipefail

stack="${1:?usage: scripts/console-deploy.sh STACK_NAME}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command -v aws >/dev/null 2>&1 || { echo "console-deploy: needs the AWS CLI" >&2; exit 1; }
output() {
    aws cloudformation describe-stacks --stack-name "$stack" \
        --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
bucket="$(output ConsoleBucketName)"
distribution="$(output ConsoleDistributionId)"
api="$(output HttpApiUrl)"
pool="$(output AgentUserPoolId)"
client="$(output AgentUserPoolClientId)"

"$root/scripts/console-build.sh"
dist="$root/console/dist"
jq -n --arg api "${api%/}" --arg pool "$pool" --arg client "$client" \
    '{auth: "cognito", api: $api, user_pool_id: $pool, client_id: $client}' > "$dist/config.json"
aws s3 sync "$dist/chunks" "s3://$bucket/chunks" --delete --cache-control "public, max-age=31536000, immutable"
aws s3 sync "$dist" "s3://$bucket" --delete --exclude "chunks/*" --cache-control "no-cache"
aws cloudfront create-invalidation --distribution-id "$distribution" \
    --paths /index.html /main.js /console.css /config.json >/dev/null
echo "console-deploy: $(output ConsoleUrl)"
