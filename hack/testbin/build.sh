#!/usr/bin/env bash
# Builds kube-apiserver and etcd for the integration tests and prints the
# folder that holds them (use it as KUBEBUILDER_ASSETS).
#
# The binaries are cached under ${XDG_CACHE_HOME:-~/.cache}/fluxdiff-testbin/KEY,
# where KEY hashes this module's go.mod and go.sum, this script and the Go
# version, so a change to any of them builds afresh. A cold build takes about
# eight minutes on two cores; a cached one prints the folder at once.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
k8s_version=v1.37.2

key=$( { cat "$here/go.mod" "$here/go.sum" "$here/build.sh"; go version; } | sha256sum | cut -c1-16)
out="${XDG_CACHE_HOME:-$HOME/.cache}/fluxdiff-testbin/$key"

if [[ -x "$out/kube-apiserver" && -x "$out/etcd" ]]; then
	echo "$out"
	exit 0
fi

echo "testbin: building kube-apiserver $k8s_version and etcd into $out (a cold build takes minutes)" >&2
tmp="$out.tmp.$$"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT

minor=${k8s_version#v1.}
minor=${minor%%.*}
ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
	ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

cd "$here"
CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
CGO_ENABLED=0 go build -trimpath -o "$tmp/etcd" go.etcd.io/etcd/server/v3

rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "$out"
