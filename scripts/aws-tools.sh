#!/usr/bin/env bash
# Installs the AWS toolchain (SAM CLI, cfn-lint, Schemathesis, moto_server) into .venv/
# from the pinned requirements-aws-tools.txt, and checkov into .venv-checkov/ from
# requirements-checkov.txt. Nothing is installed globally.
#
#   npm run aws-tools            install or update; a no-op (well under a second) when up to date
#   AWS_TOOLS_PYTHON=/path/python3 npm run aws-tools    use another interpreter (3.10+)
#
# Up to date means: each venv's .aws-tools.stamp holds the hash of its requirements file and
# of the interpreter's version, and every tool's entry point is there.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
requirements="$root/requirements-aws-tools.txt"
tools=(sam cfn-lint schemathesis st moto_server)

find_python() {
  local candidate
  # Newest first: this machine's CPython 3.11.7 now and then raises "AST constructor recursion
  # depth mismatch" inside Hypothesis (a CPython bug, fixed in later releases), which crashes a
  # Schemathesis run; 3.13 does not.
  # pyenv's shims answer only for the versions it has activated, so its installs are named too.
  for candidate in "${AWS_TOOLS_PYTHON:-}" python3.13 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*/bin/python3 \
    python3.12 python3.11 python3 /root/.pyenv/shims/python3; do
    [ -n "$candidate" ] || continue
    command -v "$candidate" >/dev/null 2>&1 || continue
    if "$candidate" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  echo "aws-tools: need Python 3.10+ with the venv module (set AWS_TOOLS_PYTHON)" >&2
  return 1
}

wanted_stamp() { # python requirements
  { "$1" -c 'import sys; print(sys.version)'; cat "$2"; } | sha256sum | cut -d' ' -f1
}

all_present() { # venv tools...
  local venv="$1" tool
  shift
  for tool in "$@"; do
    [ -x "$venv/bin/$tool" ] || return 1
  done
}

# Installs the pinned requirements into a venv of their own; a no-op when its stamp matches.
install_venv() { # venv requirements tools...
  local venv="$1" requirements="$2"
  shift 2
  local stamp="$venv/.aws-tools.stamp"
  # Fast path: the venv's own interpreter answers and the stamp matches.
  if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && all_present "$venv" "$@" &&
    [ "$(cat "$stamp")" = "$(wanted_stamp "$venv/bin/python" "$requirements" 2>/dev/null)" ]; then
    echo "aws-tools: $(basename "$venv") is up to date"
    return 0
  fi
  installed=true
  local python
  python="$(find_python)"
  # A venv made by another interpreter (or a broken one) is rebuilt from scratch.
  if [ -d "$venv" ] && ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    echo "aws-tools: removing a broken $(basename "$venv")"
    rm -rf "$venv"
  fi
  if [ ! -x "$venv/bin/python" ]; then
    echo "aws-tools: creating $(basename "$venv") with $python ($("$python" --version))"
    "$python" -m venv "$venv"
  fi
  echo "aws-tools: installing $(basename "$requirements") into $(basename "$venv") (a few minutes the first time)"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --requirement "$requirements"
  "$venv/bin/python" -m pip check --disable-pip-version-check
  all_present "$venv" "$@" || {
    echo "aws-tools: a tool's entry point is missing from $(basename "$venv") after install" >&2
    return 1
  }
  wanted_stamp "$venv/bin/python" "$requirements" >"$stamp"
}

installed=false
install_venv "$venv" "$requirements" "${tools[@]}"
# checkov pins libraries (boto3, networkx...) far older than the SAM CLI's: a venv of its own.
install_venv "$root/.venv-checkov" "$root/requirements-checkov.txt" checkov

[ "$installed" = true ] || exit 0
echo "aws-tools: ready:"
"$venv/bin/sam" --version
"$venv/bin/cfn-lint" --version
"$venv/bin/schemathesis" --version
echo "moto $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))')"
echo "checkov $("$root/.venv-checkov/bin/checkov" --version)"
