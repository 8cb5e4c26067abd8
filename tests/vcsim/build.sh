#!/usr/bin/env bash
# Build the vcsim harness (govmomi 0.24 from Debian's golang-github-vmware-govmomi-dev,
# GOPATH mode) into ${VCSIM_BIN}; rebuild only when a source is newer. Prints the path.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${VCSIM_BIN:-$here/.bin/vcsim-harness}
gopath=${VCSIM_GOPATH:-/usr/share/gocode}

stale=1
if [ -x "$bin" ]; then
    stale=0
    for src in "$here"/*.go "$here/build.sh"; do
        if [ "$src" -nt "$bin" ]; then stale=1; fi
    done
fi
if [ "$stale" = 1 ]; then
    command -v go >/dev/null || { echo "build.sh: go not found (apt-get install golang-go golang-github-vmware-govmomi-dev)" >&2; exit 1; }
    [ -d "$gopath/src/github.com/vmware/govmomi/simulator" ] || { echo "build.sh: govmomi not found under $gopath" >&2; exit 1; }
    mkdir -p "$(dirname "$bin")"
    # build to a temp name and rename, so a concurrent reader never sees half a binary
    (cd "$here" && GO111MODULE=off GOPATH="$gopath" GOFLAGS="" go build -o "$bin.tmp.$$" .)
    mv -f "$bin.tmp.$$" "$bin"
fi
echo "$bin"
