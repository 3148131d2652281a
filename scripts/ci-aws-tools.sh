#!/usr/bin/env bash
# The template and the contract checked by the real AWS toolchain, for .ci/run (after the unit
# and e2e suites, with node_modules installed):
#
#   1. npm run aws-tools       SAM CLI, cfn-lint, Schemathesis, moto_server into .venv/
#   2. sam validate --lint     SAM's transform + cfn-lint on template.yaml
#   3. cfn-lint                template.yaml with .cfnlintrc.yaml (errors, warnings, informational)
#   4. sam build               the function with its esbuild metadata (no Docker)
#   5. runtime e2e on the build   the runtime's product tests against .aws-sam/build
#   6. schemathesis            npm run fuzz:contract -- --ci against .aws-sam/build
#
# Every step runs (but those that need the build when it failed); the script exits non-zero if
# any failed. No network beyond the package registries: SAM's telemetry is off, credentials
# are dummies, and nothing talks to AWS.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# Node 24 and esbuild from node_modules: SAM's esbuild workflow looks for esbuild on PATH (its
# own `npm install --omit=dev` in a scratch folder does not bring the devDependency), and the
# npm it runs then uses Node 24 (the `node` devDependency) like every npm script here.
export PATH="$root/node_modules/.bin:$PATH"
export SAM_CLI_TELEMETRY=0
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-testing}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-testing}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_EC2_METADATA_DISABLED=true
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
# Hypothesis (under Schemathesis) keeps its files in the gitignored .build/.
export HYPOTHESIS_STORAGE_DIRECTORY="$root/.build/hypothesis"

build_dir=".aws-sam/build"
# The runtime's product e2e tests serve this `sam build` output when they read this variable.
e2e_build_env="SAM_BUILD_DIR"
e2e_tests="test/runtime/product.test.ts"

passed=0
failed=0
skipped=0
summary=()
script_start=$SECONDS

record() { # name status seconds
  summary+=("$(printf '  %-34s %-8s %5ss' "$1" "$2" "$3")")
}

step() { # name command...
  local name="$1" start=$SECONDS
  shift
  echo
  echo "=== $name: $*"
  if "$@"; then
    passed=$((passed + 1))
    record "$name" ok $((SECONDS - start))
    return 0
  fi
  failed=$((failed + 1))
  record "$name" FAILED $((SECONDS - start))
  return 1
}

skip() { # name reason
  echo
  echo "=== $1: skipped ($2)"
  skipped=$((skipped + 1))
  record "$1" skipped 0
}

if ! step "aws-tools (.venv)" bash scripts/aws-tools.sh; then
  echo "ci-aws-tools: the toolchain did not install; nothing else can run" >&2
  exit 1
fi

step "sam validate --lint" .venv/bin/sam validate --lint --region us-east-1 --template template.yaml
step "cfn-lint" .venv/bin/cfn-lint

rm -rf "$build_dir"
if step "sam build (esbuild)" .venv/bin/sam build --template template.yaml --build-dir "$build_dir"; then
  if grep -rqs "$e2e_build_env" test/runtime; then
    step "runtime e2e on the sam build" env "$e2e_build_env=$root/$build_dir" \
      npx vitest run "$e2e_tests"
  else
    skip "runtime e2e on the sam build" "test/runtime does not read $e2e_build_env yet"
  fi
  step "schemathesis on the sam build" node scripts/fuzz-contract.ts --ci --build-dir "$build_dir"
else
  skip "runtime e2e on the sam build" "no build"
  # The contract is still worth checking against the sources.
  step "schemathesis on the sources" node scripts/fuzz-contract.ts --ci
fi

echo
echo "ci-aws-tools: summary ($((SECONDS - script_start)) s in all)"
printf '%s\n' "${summary[@]}"
echo "ci-aws-tools: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
