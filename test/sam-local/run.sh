#!/usr/bin/env bash
# npm run test:sam-local: the product's end-to-end HTTP tests (test/runtime/product.test.ts)
# against the real `sam local start-api` of the SAM CLI, serving `sam build`'s output of
# template.yaml through podman's Docker API, as README's "With Docker and the SAM CLI" says:
# --warm-containers EAGER, --parameter-overrides Architecture=x86_64, env_host.json with
# --add-host host.docker.internal:<the bridge's gateway>, where dynalite listens, signed in as
# the README says: `npm run token -- --sam-env --base env_host.json` writes the env file with a
# local issuer's public keys inline (LOCAL_JWKS; keys made for this run, in its scratch
# directory) and `npm run token -- alice` signs alice's token (PRODUCT_API_TOKEN) with them;
# test/sam-local/sign-in.sam-test.ts checks the refusals only the SAM CLI can show. A second
# sam, given env_local.json with its DDB_ENDPOINT emptied, must refuse every request
# (test/sam-local/refusal.sam-test.ts). Both run in test/sam-local/vitest.config.ts.
#
# Network safety: everything runs in a network namespace this script makes (`unshare --net`),
# with nothing in it but loopback and podman's bridge, which this script creates itself and
# checks, with the routes, before the first container starts: no packet can leave the machine
# whatever a container, podman or the SAM CLI tries. No registry is reachable, so the Lambda
# base image is a local stand-in (test/sam-local/base-image/), built once per content hash.
#
#   npm run test:sam-local                  (needs root: podman runs rootful in the namespace)
#   npm run test:sam-local -- --latency     instead of the tests: per-request latency of sam
#                                           (default and --warm-containers EAGER) and npm start
#   LATENCY_REQUESTS=n ...                  requests per server for --latency (default 20)
#   SAM_LATENCY_JSON=file ...               --latency also writes its figures there as JSON
#                                           (npm run bench does, for its sam local anchor)
#   SAM_LOCAL_SKIP_INSTALL=1 ...            use .venv as it is, never install into it (the bench)
#   SAM_LOCAL_REPORT=out.json ...           also write vitest's JSON report there (.ci/run does)
#   SAM_LOCAL_CACHE=dir ...                 where images and aws-lambda-ric are kept
#                                           (default ~/.cache/todo-api/sam-local)
#
# Stops everything it started by PID: sam, the podman service, the containers, dynalite; the
# namespace goes with its last process.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
here="$root/test/sam-local"

# Inside the namespace: fixed addresses, since nothing else lives there.
bridge=podman0 # netavark's default network "podman": 10.88.0.0/16, gateway 10.88.0.1
gateway=10.88.0.1
subnet_cidr=16
ddb_port=8000
api_port=3000
refusing_port=3001
base_image=public.ecr.aws/lambda/nodejs:24-x86_64 # what the SAM CLI asks for (x86_64)

log() { echo "sam-local: $*"; }
die() {
  echo "sam-local: $*" >&2
  exit 1
}

# The processes in network namespace NETNS (as readlink /proc/PID/ns/net names it), but the
# PIDs given after it.
processes_in() { # netns [pid...]
  local netns=$1 other pid
  shift
  [ -n "$netns" ] || return 0
  for other in /proc/[0-9]*; do
    pid=${other#/proc/}
    case " $* " in *" $pid "*) continue ;; esac
    [ "$(readlink "$other/ns/net" 2>/dev/null)" = "$netns" ] && echo "$pid"
  done
  return 0
}

outside() {
  run_start=$SECONDS
  [ "$(id -u)" -eq 0 ] || die "needs root (rootful podman inside a network namespace of its own)"
  local tool missing=()
  for tool in podman:podman runc:runc busybox:busybox-static unshare:util-linux ip:iproute2 \
    iptables:iptables curl:curl; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || [ -x "/bin/${tool%%:*}" ] || missing+=("${tool#*:}")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ -n "${CI:-}" ]; then
      log "installing ${missing[*]}"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
      die "missing: apt-get install -y ${missing[*]}"
    fi
  fi

  # One run at a time on a machine: podman's run-time directories are fixed paths.
  mkdir -p /run/todo-api-sam-local
  exec 9>/run/todo-api-sam-local/run.lock
  flock -w 600 9 || die "another npm run test:sam-local holds /run/todo-api-sam-local/run.lock"

  if [ -n "${SAM_LOCAL_SKIP_INSTALL:-}" ]; then
    [ -x .venv/bin/sam ] || die "no SAM CLI in .venv/bin/sam (npm run aws-tools installs it)"
  else
    bash scripts/aws-tools.sh >/dev/null
  fi
  local start=$SECONDS
  # npm run puts node_modules/.bin (esbuild, Node 24) on PATH, which sam build's esbuild needs.
  rm -rf .aws-sam/build
  SAM_CLI_TELEMETRY=0 npm run --silent sam:build >/dev/null
  log "sam build: $((SECONDS - start)) s"

  cache="${SAM_LOCAL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/todo-api/sam-local}"
  mkdir -p "$cache"
  local node_binary
  node_binary="$(readlink -f node_modules/.bin/node)"
  # The image's content hash: the fixture's files and every binary copied into it.
  image_hash=$(
    {
      sha256sum "$here"/base-image/* | sed "s|$here/||"
      sha256sum "$node_binary" /bin/busybox | cut -d' ' -f1
      ldd "$node_binary" | grep -o '/[^ ]*' | sort -u | xargs -r sha256sum | cut -d' ' -f1
    } | sha256sum | cut -c1-16
  )
  image_tar="$cache/base-image-$image_hash.tar"
  if [ ! -f "$image_tar" ]; then
    start=$SECONDS
    rm -f "$cache"/base-image-*.tar
    bash "$here/base-image/build-rootfs.sh" "$image_tar.partial" "$cache" "$node_binary"
    mv "$image_tar.partial" "$image_tar"
    log "base image rootfs $image_hash: $((SECONDS - start)) s"
  fi

  work="$(mktemp -d /tmp/todo-api-sam-local.XXXXXX)"
  export cache image_hash image_tar work mode
  # A network namespace (and a mount namespace, so podman's mounts stay inside) that ends with
  # its last process.
  local status=0
  # Stopped (SIGTERM to the process group, as the bench's time cap does), the inside cleans up
  # after itself: this shell lives on to wait for that and to remove the scratch directory.
  trap 'log "stopped; waiting for the namespace to clean up"' TERM
  unshare --net --mount --propagation private --fork -- bash "$here/run.sh" --inside || status=$?
  trap - TERM
  # The namespace ends with its last process: none may be left (after a stop or a failure, once
  # its cleanup has had up to 30 s; whatever is left then is named and fails the run).
  local netns other deadline=$((SECONDS + 30))
  netns=$(cat "$work/netns" 2>/dev/null || true)
  while [ $status -ne 0 ] && [ -n "$(processes_in "$netns")" ] && [ $SECONDS -lt $deadline ]; do
    sleep 0.5
  done
  for other in $(processes_in "$netns"); do
    echo "sam-local: process $other is still in the network namespace $netns" >&2
    status=1
  done
  rm -rf "$work"
  log "network namespace $netns gone; $((SECONDS - run_start)) s in all"
  return $status
}

# --- inside the namespace -------------------------------------------------------------------

pids=()
sam_pids=()
cleanup() {
  local status=$?
  set +e
  # Stopped by a signal (Ctrl-C, the bench's time cap: the whole process group gets it), the
  # cleanup still runs to its end.
  trap '' TERM INT HUP
  local pid
  for pid in "${sam_pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  # Our podman keeps its containers in our own storage: every one of them is ours. (Asked
  # directly, not through its service, which a signal to the group may have stopped already.)
  if [ -n "${socket:-}" ]; then
    local ids
    ids=$(podman_cmd ps -aq 2>/dev/null)
    [ -n "$ids" ] && podman_cmd rm -f -t 1 $ids >/dev/null 2>&1
  fi
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  # Whatever still runs in this namespace was started here (conmon runs `podman container
  # cleanup` as a container ends): a few seconds to finish, then it is stopped.
  local deadline=$((SECONDS + 10)) left
  while left=$(namespace_processes) && [ -n "$left" ] && [ $SECONDS -lt $deadline ]; do
    sleep 0.5
  done
  for pid in $(namespace_processes); do
    log "stopping a leftover process in the namespace: $pid $(tr '\0' ' ' <"/proc/$pid/cmdline" | sed "s/^podman .*--events-backend file /podman … /" | cut -c1-200)"
    kill -KILL "$pid" 2>/dev/null
  done
  if [ -n "${work:-}" ] && [ -d "$work" ]; then
    rm -rf "$root/.build/sam-local/logs"
    mkdir -p "$root/.build/sam-local/logs"
    cp "$work"/*.log "$root/.build/sam-local/logs/" 2>/dev/null
  fi
  exit "$status"
}

# The processes in this network namespace but this shell and unshare (our parent, waiting).
namespace_processes() {
  processes_in "$(readlink /proc/$$/ns/net)" $$ "$PPID" "$BASHPID"
}

podman_cmd() { podman "${podman_args[@]}" "$@"; }

wait_for() { # description seconds command...
  local what=$1 limit=$2
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      echo "sam-local: $what did not come up within $limit s" >&2
      return 1
    fi
    sleep 0.2
  done
}

# sam local start-api NAME PORT ENV_FILE [more options], in the background (its log: sam-NAME.log).
start_sam() {
  local name=$1 port=$2 env_file=$3
  shift 3
  SAM_CLI_TELEMETRY=0 .venv/bin/sam local start-api \
    --template .aws-sam/build/template.yaml \
    --env-vars "$env_file" \
    --parameter-overrides Architecture=x86_64 \
    --skip-pull-image \
    --host 127.0.0.1 --port "$port" "$@" \
    >"$work/sam-$name.log" 2>&1 &
  sam_pids+=($!)
}

# True once sam on PORT gives any HTTP answer; exits at once when that sam (PID) has died, so
# a broken start does not wait out the deadline.
sam_answers() { # name pid port
  kill -0 "$2" 2>/dev/null || {
    echo "sam-local: sam local start-api ($1) exited:" >&3
    tail -40 "$work/sam-$1.log" >&3
    exit 1
  }
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$3/todos?limit=1")" != 000 ]
}

# The same API served by sam without warm containers (a container per request), by the warm
# one above, and by npm start: the per-request latency of each, printed.
measure_latency() {
  local cold_port=3002 npm_port=3003
  start_sam per-request "$cold_port" "$work/env-api.json" --add-host "host.docker.internal:$gateway"
  local cold_pid=${sam_pids[-1]}
  node_modules/.bin/node scripts/local/cli.ts --host 127.0.0.1 --port "$npm_port" --ddb-port 8003 \
    --in-memory --no-watch >"$work/npm-start.log" 2>&1 &
  pids+=($!)
  wait_for "sam local start-api (per request)" 240 \
    sam_answers per-request "$cold_pid" "$cold_port" || exit 1
  wait_for "npm start" 60 curl -s "http://127.0.0.1:$npm_port/todos" || exit 1
  # npm start --in-memory has keys of its own: a token from its issuer.
  local npm_token
  npm_token=$(node_modules/.bin/node scripts/token.ts alice --url "http://127.0.0.1:$npm_port" 2>>"$work/token.log") ||
    die "no token from npm start's issuer"
  node_modules/.bin/node test/sam-local/latency.ts "${LATENCY_REQUESTS:-20}" \
    "sam local start-api (default)=http://127.0.0.1:$cold_port@$alice_token" \
    "sam local start-api --warm-containers EAGER=http://127.0.0.1:$api_port@$alice_token" \
    "npm start=http://127.0.0.1:$npm_port@$npm_token"
}

inside() {
  exec 3>&2 # stderr for what runs under wait_for
  # Our own podman storage (images kept across runs in the cache), apart from any other podman
  # on the machine. Its run-time directories are fixed paths, since podman's database records
  # them; the lock in outside() keeps two runs apart.
  podman_args=(--root "$cache/podman/root" --runroot /run/todo-api-sam-local/storage
    --tmpdir /run/todo-api-sam-local/libpod
    --storage-driver overlay --cgroup-manager cgroupfs --events-backend file)
  trap cleanup EXIT
  readlink /proc/$$/ns/net >"$work/netns"
  ip link set lo up
  # podman's default bridge, made here so that it exists (and is checked) before any container
  # and dynalite can listen on its gateway address; netavark reuses it.
  ip link add "$bridge" type bridge
  ip addr add "$gateway/$subnet_cidr" dev "$bridge"
  ip link set "$bridge" up
  bash "$here/check-isolated.sh" "$bridge" "$gateway/$subnet_cidr" || exit 1

  # Rootful podman as this sandbox allows it: runc (crun refuses the hybrid cgroups here) and
  # explicit ulimits (runc may not set podman's defaults here: nofile above our hard limit, and
  # an nproc of 96363 or 65536 were refused where 4096 is not).
  local nofile
  nofile=$(ulimit -Hn)
  [ "$nofile" = unlimited ] && nofile=65536
  export CONTAINERS_CONF="$work/containers.conf"
  cat >"$CONTAINERS_CONF" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
[network]
network_backend = "netavark"
EOF
  mkdir -p "$cache/podman/root"
  socket="$work/podman.sock"
  podman "${podman_args[@]}" system service --time=0 "unix://$socket" >"$work/podman.log" 2>&1 &
  pids+=($!)
  wait_for "podman service" 30 test -S "$socket" || exit 1
  export DOCKER_HOST="unix://$socket"

  local start=$SECONDS
  if [ "$(podman_cmd image inspect --format '{{ index .Labels "todo-api.fixture-hash" }}' "$base_image" 2>/dev/null)" != "$image_hash" ]; then
    # Every image goes: the SAM CLI reuses its emulation image (ours + its runtime emulator)
    # while one exists, so one built on the old base would outlive it.
    podman_cmd rmi -a -f >/dev/null 2>&1 || true
    podman_cmd import \
      --change 'ENV LAMBDA_TASK_ROOT=/var/task' \
      --change 'ENV LAMBDA_RUNTIME_DIR=/var/runtime' \
      --change 'ENV LANG=en_US.UTF-8' \
      --change 'ENV TZ=:UTC' \
      --change 'ENV PATH=/var/lang/bin:/usr/local/bin:/usr/bin:/bin:/opt/bin' \
      --change 'ENV LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib' \
      --change 'WORKDIR /var/task' \
      --change 'ENTRYPOINT ["/lambda-entrypoint.sh"]' \
      --change "LABEL todo-api.fixture-hash=$image_hash" \
      "$image_tar" "$base_image" >/dev/null
    log "base image imported: $((SECONDS - start)) s"
  fi

  node_modules/.bin/dynalite --host "$gateway" --port "$ddb_port" --createTableMs 0 \
    >"$work/dynalite.log" 2>&1 &
  pids+=($!)
  wait_for "dynalite" 30 curl -s "http://$gateway:$ddb_port" || exit 1
  DDB_ENDPOINT="http://$gateway:$ddb_port" node_modules/.bin/node scripts/seed.ts >/dev/null

  # The README's own env file for a DynamoDB on the host (env_host.json: host.docker.internal,
  # which --add-host names as the bridge's gateway, where dynalite listens), and env_local.json
  # with its endpoint emptied, as when a user forgets --env-vars (the function must refuse).
  [ "$(node_modules/.bin/node -p 'require("./env_host.json").TodoFunction.DDB_ENDPOINT')" = \
    "http://host.docker.internal:$ddb_port" ] || die "env_host.json does not name host.docker.internal:$ddb_port"
  node_modules/.bin/node -e '
    const fs = require("node:fs");
    const env = JSON.parse(fs.readFileSync("env_local.json", "utf8"));
    env.TodoFunction.DDB_ENDPOINT = "";
    fs.writeFileSync(process.argv[1], JSON.stringify(env, null, 2));
  ' "$work/env-no-endpoint.json"

  # Sign-in (the SAM CLI skips Cognito authorizers, so the function verifies tokens itself):
  # an issuer's keys for this run only, env_host.json's variables plus LOCAL_ISSUER_URL,
  # LOCAL_JWKS (inline: nothing serves the keys here) and LOCAL_CLIENT_IDS, and alice's token,
  # signed with those keys (--keys: no running issuer is asked).
  local issuer_keys="$work/issuer/keys.json" api_env="$work/env-api.json"
  node_modules/.bin/node scripts/token.ts --sam-env --base env_host.json --keys "$issuer_keys" \
    --out "$api_env" 2>>"$work/token.log" || die "npm run token -- --sam-env failed"
  alice_token=$(node_modules/.bin/node scripts/token.ts alice --keys "$issuer_keys" 2>>"$work/token.log") ||
    die "npm run token -- alice failed"

  start=$SECONDS
  start_sam api "$api_port" "$api_env" --warm-containers EAGER \
    --add-host "host.docker.internal:$gateway"
  local api_pid=${sam_pids[-1]}
  start_sam refusing "$refusing_port" "$work/env-no-endpoint.json" --warm-containers EAGER
  local refusing_pid=${sam_pids[-1]}
  wait_for "sam local start-api" 240 sam_answers api "$api_pid" "$api_port" || exit 1
  wait_for "sam local start-api (no endpoint)" 240 \
    sam_answers refusing "$refusing_pid" "$refusing_port" || exit 1
  log "sam local start-api ready, containers warm: $((SECONDS - start)) s"

  if [ "$mode" = latency ]; then
    measure_latency
    return
  fi

  local report_args=()
  [ -n "${SAM_LOCAL_REPORT:-}" ] && report_args=(--reporter=default --reporter=json "--outputFile.json=$SAM_LOCAL_REPORT")
  local status=0
  PRODUCT_API_URL="http://127.0.0.1:$api_port" PRODUCT_API_TOKEN="$alice_token" \
    SAM_LOCAL_REFUSING_URL="http://127.0.0.1:$refusing_port" \
    node_modules/.bin/vitest run --config test/sam-local/vitest.config.ts "${report_args[@]}" ||
    status=$?
  if [ $status -ne 0 ]; then
    log "sam local's log (last 60 lines):"
    tail -60 "$work/sam-api.log" >&2
  fi
  # Still nothing but loopback and the bridge (now with the containers' veths on it).
  bash "$here/check-isolated.sh" "$bridge" "$gateway/$subnet_cidr" --bridge-ports || status=1
  return $status
}

case "${1:-}" in
  --inside) inside ;;
  --latency) mode=latency outside ;;
  "") mode=test outside ;;
  *) die "usage: run.sh [--latency]" ;;
esac
