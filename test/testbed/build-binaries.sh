#!/usr/bin/env bash
# Builds the test bed's Kubernetes binaries (kube-apiserver, kubectl, etcd, helm, and for the
# optional node: kubelet, kube-controller-manager, kube-scheduler, kube-proxy), the cron
# oracle (the CronJob controller's cron library, for test/property/cron-job.test.ts) and promtool
# (Prometheus's rule tester, for the chart's alert rules) from Go
# modules pinned in test/testbed/go/*/go.mod, into a cache directory keyed by version. A binary that is
# already there is not rebuilt. Prints the directory holding the binaries on its last line.
# With --print-dir it only prints that directory (built or not) and builds nothing.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
KUBE_VERSION=v1.36.3
ETCD_VERSION=v3.6.8
HELM_VERSION=v3.22.0
CACHE_ROOT=${CELERYBEAT_TESTBIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/celerybeat-operator/testbin}
OUT="$CACHE_ROOT/kube-$KUBE_VERSION-etcd-$ETCD_VERSION-helm-$HELM_VERSION"
if [ "${1:-}" = --print-dir ]; then echo "$OUT"; exit 0; fi
mkdir -p "$OUT"
# One build at a time per cache: test runs started together would otherwise write the same files at once.
exec 9>"$OUT/.build-lock"
flock 9

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod

kube_ldflags() {
  local major=${KUBE_VERSION#v}; major=${major%%.*}
  local minor=${KUBE_VERSION#v*.}; minor=${minor%%.*}
  local flags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags="$flags -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=$major -X $p.gitMinor=$minor"
    flags="$flags -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$flags"
}

build() { # name module-dir package ldflags
  local name=$1 dir=$2 pkg=$3 ldflags=$4
  if [ -x "$OUT/$name" ]; then return 0; fi
  echo "building $name ($pkg)" >&2
  local start=$SECONDS
  (cd "$HERE/go/$dir" && go build -trimpath -ldflags "$ldflags" -o "$OUT/$name.tmp" "$pkg")
  mv "$OUT/$name.tmp" "$OUT/$name"
  echo "built $name in $((SECONDS - start)) s" >&2
}

build etcd etcd go.etcd.io/etcd/server/v3 "-s -w"
build kube-apiserver kube k8s.io/kubernetes/cmd/kube-apiserver "$(kube_ldflags)"
build kubectl kube k8s.io/kubernetes/cmd/kubectl "$(kube_ldflags)"
build cron-oracle cron-oracle . "-s -w"
build helm helm helm.sh/helm/v3/cmd/helm "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
build promtool promtool github.com/prometheus/prometheus/cmd/promtool "-s -w"
# The node (npm run testbed -- up --with-node): same module and version as the API server.
for bin in kubelet kube-controller-manager kube-scheduler kube-proxy; do
  build "$bin" kube "k8s.io/kubernetes/cmd/$bin" "$(kube_ldflags)"
done

echo "$OUT"
