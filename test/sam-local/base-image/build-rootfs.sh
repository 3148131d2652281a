#!/usr/bin/env bash
# Assembles the root file system of the test's stand-in for public.ecr.aws/lambda/nodejs:24
# (no registry is reachable here) into a tar for `podman import`:
#
#   /bin/busybox + applets   the SAM CLI's own Dockerfile runs `mv` and `chmod` in it
#   /lib*, /usr/lib*         the host's glibc, libstdc++ and libgcc_s, as ldd lists them
#   /var/lang/bin/node       the Node 24 binary the project already installs (node_modules/node)
#   /var/runtime/            bootstrap + AWS's runtime interface client (aws-lambda-ric, pinned
#                            by this folder's package-lock.json), which speaks the Runtime API
#   /lambda-entrypoint.sh    as in AWS's images (the SAM CLI replaces it with its emulator)
#
#   build-rootfs.sh OUT.tar CACHE_DIR NODE_BINARY
set -euo pipefail

out=$1
cache=$2
node_binary=$3
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
busybox=/bin/busybox

# aws-lambda-ric compiles a native addon (with curl and aws-lambda-cpp) at install, about 45 s
# on 2 cores; installed once per lockfile into the cache. The system's npm builds it against the
# system's Node headers (Debian ships them) rather than fetching Node 24's: the addon uses N-API,
# whose ABI is the same for every Node version.
ric_key=$(sha256sum "$here/package-lock.json" | cut -c1-16)
ric_dir="$cache/aws-lambda-ric-$ric_key"
if [ ! -f "$ric_dir/node_modules/aws-lambda-ric/rapid-client.node" ]; then
  echo "base image: installing aws-lambda-ric into $ric_dir (compiles a native addon)"
  rm -rf "$ric_dir"
  mkdir -p "$ric_dir"
  cp "$here/package.json" "$here/package-lock.json" "$ric_dir/"
  system_path=/usr/local/bin:/usr/bin:/bin
  env PATH="$system_path" sh -c 'command -v npm && [ -d /usr/include/node ]' >/dev/null || {
    echo "base image: needs the system's npm and Node headers (Debian: apt-get install nodejs npm)" >&2
    exit 1
  }
  (cd "$ric_dir" && env PATH="$system_path" npm ci --no-audit --no-fund --loglevel=error)
fi

rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT

mkdir -p "$rootfs"/{bin,sbin,usr/bin,etc,tmp,opt,var/task,var/runtime,var/lang/bin,var/rapid}
chmod 1777 "$rootfs/tmp"
cp "$busybox" "$rootfs/bin/busybox"
for applet in sh mv chmod cp rm mkdir ls cat env ln; do
  ln -s busybox "$rootfs/bin/$applet"
done
cp "$node_binary" "$rootfs/var/lang/bin/node"

ric_package="$ric_dir/node_modules/aws-lambda-ric"
mkdir -p "$rootfs/var/runtime/node_modules/aws-lambda-ric"
cp "$ric_package/package.json" "$ric_package/index.mjs" "$ric_package/rapid-client.node" \
  "$rootfs/var/runtime/node_modules/aws-lambda-ric/"
cp "$here/bootstrap" "$rootfs/var/runtime/bootstrap"
cp "$here/lambda-entrypoint.sh" "$rootfs/lambda-entrypoint.sh"
chmod +x "$rootfs/var/runtime/bootstrap" "$rootfs/lambda-entrypoint.sh"

# Every shared library the node binary and the addon load, at the same paths as on the host.
for library in $(ldd "$node_binary" "$ric_package/rapid-client.node" | grep -v ':$' | grep -o '/[^ ]*' | sort -u); do
  mkdir -p "$rootfs$(dirname "$library")"
  cp -L "$library" "$rootfs$library"
done

printf 'root:x:0:0:root:/root:/bin/sh\nsbx_user1051:x:993:990::/home/sbx_user1051:/sbin/nologin\n' \
  >"$rootfs/etc/passwd"
printf 'root:x:0:\n' >"$rootfs/etc/group"

tar -C "$rootfs" --numeric-owner -cf "$out" .
