#!/usr/bin/env bash
# The template and the contract checked by the scanners people run on them, and the CDK app
# synthesized, for .ci/run (after `npm run aws-tools`, with node_modules installed):
#
#   1. checkov          template.yaml: every check passes, or is skipped in the resource's
#                       Metadata.checkov with the reason in words
#   2. spectral         openapi.yaml with .spectral.yaml (OWASP API Security Top 10): nothing
#                       reported but the sign-in rules, which are listed as pending
#   3. cdk synth        the CDK app (cdk/) synthesizes template.yaml with the function's asset
#
# Offline: checkov downloads no external policies and uploads nothing; the CDK CLI fetches no
# notices and sends no telemetry; nothing needs an AWS account.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$root/node_modules/.bin:$PATH"
export CDK_DISABLE_CLI_TELEMETRY=true
export AWS_EC2_METADATA_DISABLED=true

failed=0
summary=()
step() { # name command...
  local name="$1" start=$SECONDS status=ok
  shift
  echo
  echo "=== $name: $*"
  "$@" || { status=FAILED; failed=$((failed + 1)); }
  summary+=("$(printf '  %-22s %-7s %4ss' "$name" "$status" $((SECONDS - start)))")
}

step "checkov" .venv-checkov/bin/checkov --file template.yaml --framework cloudformation \
  --compact --skip-download --skip-results-upload
step "spectral (OWASP)" node scripts/spectral-check.ts
step "cdk synth" npm run --silent cdk:synth

echo
echo "ci-security-checks: summary"
printf '%s\n' "${summary[@]}"
[ "$failed" -eq 0 ]
