#!/usr/bin/env bash
# Builds (or reuses from the cache) the real binaries the test environment runs:
# etcd, kube-apiserver, kube-controller-manager, consul and helm, each from its Go module.
# Cache: ${CONSULK8S_TESTENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/consulk8s-testenv}/<name>-<version>/<name>
# Prints the cache directory on its last line.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
cache="${CONSULK8S_TESTENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/consulk8s-testenv}"
mkdir -p "$cache"

step() { echo "testenv build: $*" >&2; }
fail() { echo "testenv build FAILED: $*" >&2; exit 1; }

# Go is needed only when something is not cached yet.
need_go() {
  command -v go >/dev/null 2>&1 || fail "Go is not installed, and $1 is not in the cache ($cache). The test environment builds etcd, kube-apiserver, kube-controller-manager, consul and helm from their Go modules; install Go 1.26 or newer (https://go.dev/dl) and run again."
}

export GOFLAGS="${GOFLAGS:--buildvcs=false} -trimpath"
export CGO_ENABLED=0
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"

# build_one NAME VERSION -- runs the function "recipe_NAME" in a fresh wrapper module dir
build_one() {
  local name="$1" version="$2" recipe="$3"
  local dest="$cache/$name-$version"
  if [[ -x "$dest/$name" ]]; then
    step "$name $version: cached at $dest/$name"
    return 0
  fi
  need_go "$name $version"
  # One build of a binary at a time, also across concurrent runs; the second one waits and reuses.
  local lock_fd
  exec {lock_fd}>"$dest.lock"
  if ! flock -n "$lock_fd"; then
    step "$name $version: another run is building it, waiting ..."
    flock "$lock_fd"
  fi
  if [[ -x "$dest/$name" ]]; then
    step "$name $version: cached at $dest/$name"
    exec {lock_fd}>&-
    return 0
  fi
  local work; work="$(mktemp -d "${TMPDIR:-/tmp}/consulk8s-build-$name.XXXXXX")"
  local start=$SECONDS
  step "$name $version: building from its Go module (a cold build takes minutes) ..."
  # A recipe writes the binary to its second argument; files beside it (in out/) are cached too.
  mkdir -p "$work/out"
  if ! ( cd "$work" && "$recipe" "$version" "$work/out/$name" ) >"$work.log" 2>&1; then
    tail -n 30 "$work.log" >&2
    fail "$name $version did not build (full log: $work.log)"
  fi
  rm -rf "$dest.tmp"
  mv "$work/out" "$dest.tmp"
  rm -rf "$dest" && mv "$dest.tmp" "$dest"
  rm -rf "$work" "$work.log"
  step "$name $version: built in $((SECONDS - start))s"
  exec {lock_fd}>&-
}

# Kubernetes' root module requires its staging modules at v0.0.0 with replaces into ./staging,
# so `go install` refuses it. A wrapper module replaces each staging module by its published
# v0.Y.Z, the list taken from the tag's own go.mod.
k8s_wrapper() {
  local version="$1"
  local gomod; gomod="$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')"
  [[ -f "$gomod" ]] || fail "could not download k8s.io/kubernetes@$version"
  local goline godebug staging_version="v0.${version#v1.}"
  goline="$(grep -m1 '^go ' "$gomod")"
  godebug="$(grep -m1 '^godebug ' "$gomod" || true)"
  {
    echo "module consulk8s.test/k8swrapper"
    echo "$goline"
    [[ -n "$godebug" ]] && echo "$godebug"
    echo "require k8s.io/kubernetes $version"
    grep -E '^\s*k8s\.io/[a-z0-9-]+ => \./staging/' "$gomod" | awk -v v="$staging_version" '{print "replace " $1 " => " $1 " " v}'
  } > go.mod
}
ldflags_k8s() {
  local version="$1" minor; minor="$(echo "$version" | cut -d. -f2)"
  echo "-s -w -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
}
recipe_kube_apiserver() {
  k8s_wrapper "$1"
  go build -mod=mod -ldflags "$(ldflags_k8s "$1")" -o "$2" k8s.io/kubernetes/cmd/kube-apiserver
}
recipe_kube_controller_manager() {
  k8s_wrapper "$1"
  go build -mod=mod -ldflags "$(ldflags_k8s "$1")" -o "$2" k8s.io/kubernetes/cmd/kube-controller-manager
}
recipe_kube_scheduler() {
  k8s_wrapper "$1"
  go build -mod=mod -ldflags "$(ldflags_k8s "$1")" -o "$2" k8s.io/kubernetes/cmd/kube-scheduler
}
# kwok (optional part of the environment): the binary plus the "fast" node, pod and volume stages and the node heartbeat it
# needs (kwokctl embeds them, kwok itself does not), copied from the module.
recipe_kwok() {
  printf 'module consulk8s.test/kwokwrapper\ngo 1.26\n' > go.mod
  go get "sigs.k8s.io/kwok@$1"
  go build -mod=mod -ldflags "-s -w" -o "$2" sigs.k8s.io/kwok/cmd/kwok
  local dir; dir="$(go list -mod=mod -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
  mkdir -p "$(dirname "$2")/stages"
  local stages="$dir/kustomize/stage"
  cp "$stages"/node/fast/*.yaml "$stages"/node/heartbeat/*.yaml "$stages"/pod/fast/*.yaml \
    "$stages"/volume/fast/{pv-bind,pv-delete,pvc-provision,pvc-delete}.yaml "$(dirname "$2")/stages/"
  rm -f "$(dirname "$2")/stages/kustomization.yaml"
}
recipe_etcd() {
  printf 'module consulk8s.test/etcdwrapper\ngo 1.24\n' > go.mod
  go get "go.etcd.io/etcd/server/v3@$1"
  go build -mod=mod -ldflags "-s -w" -o "$2" go.etcd.io/etcd/server/v3
}
# Consul's go.mod excludes two go-msgpack versions; excludes are not inherited, so copy them.
recipe_consul() {
  local gomod; gomod="$(go mod download -json "github.com/hashicorp/consul@$1" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')"
  [[ -f "$gomod" ]] || fail "could not download github.com/hashicorp/consul@$1"
  {
    echo "module consulk8s.test/consulwrapper"
    grep -m1 '^go ' "$gomod"
    echo "require github.com/hashicorp/consul $1"
    # single-line excludes and exclude ( ... ) blocks
    grep -E '^exclude [^(]' "$gomod" || true
    sed -n '/^exclude (/,/^)/p' "$gomod"
  } > go.mod
  # The checksum database answers 404 for some of Consul's own sub-module versions
  # (proto-public v0.7.0, envoyextensions v0.9.0, troubleshoot v0.8.0) although the module
  # proxy serves them; skip the sumdb lookup for Consul's own sub-modules only.
  GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/hashicorp/consul/proto-public,github.com/hashicorp/consul/envoyextensions,github.com/hashicorp/consul/troubleshoot" \
    go build -mod=mod -ldflags "-s -w" -o "$2" github.com/hashicorp/consul
}
recipe_helm() {
  printf 'module consulk8s.test/helmwrapper\ngo 1.24\n' > go.mod
  go get "helm.sh/helm/v3@$1"
  go build -mod=mod -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$1" -o "$2" helm.sh/helm/v3/cmd/helm
}

only="${1:-all}"
want() { [[ "$only" == all || ",$only," == *",$1,"* ]]; }
want etcd && build_one etcd "$ETCD_VERSION" recipe_etcd
want consul && build_one consul "$CONSUL_VERSION" recipe_consul
want helm && build_one helm "$HELM_VERSION" recipe_helm
want kube-apiserver && build_one kube-apiserver "$KUBERNETES_VERSION" recipe_kube_apiserver
want kube-controller-manager && build_one kube-controller-manager "$KUBERNETES_VERSION" recipe_kube_controller_manager
# Simulated nodes (kube-scheduler + kwok) only when asked for: by name or CONSULK8S_TESTENV_KWOK=1.
want_kwok() { [[ ",$only," == *",$1,"* || ( "$only" == all && "${CONSULK8S_TESTENV_KWOK:-}" == 1 ) ]]; }
want_kwok kube-scheduler && build_one kube-scheduler "$KUBERNETES_VERSION" recipe_kube_scheduler
want_kwok kwok && build_one kwok "$KWOK_VERSION" recipe_kwok
echo "$cache"
