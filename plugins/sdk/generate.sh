#!/usr/bin/env bash
# Regenerates the Go code for the pgdock plugin protocol from proto/.
# Called by `make generate`. The generators are pinned here and installed into
# <repo>/bin/tools, so every run produces byte-identical output; protoc comes
# from Debian's protobuf-compiler package (3.21.x, see scripts/deps.sh).
set -euo pipefail

PROTOC_GEN_GO_VERSION=v1.36.12    # google.golang.org/protobuf/cmd/protoc-gen-go
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2 # google.golang.org/grpc/cmd/protoc-gen-go-grpc
PROTOC_VERSION_PREFIX=3.21.       # libprotoc version the committed code was generated with

sdk_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(cd "$sdk_dir/../.." && pwd)
tools_dir=${PGDOCK_TOOLS_DIR:-$repo_dir/bin/tools}

if ! command -v protoc >/dev/null 2>&1; then
  echo "generate: protoc not found; install the Debian package protobuf-compiler" >&2
  exit 1
fi
protoc_version=$(protoc --version | awk '{print $2}')
case "$protoc_version" in
  "$PROTOC_VERSION_PREFIX"*) ;;
  *)
    echo "generate: protoc $protoc_version found, want ${PROTOC_VERSION_PREFIX}x (the version in the committed code)" >&2
    exit 1
    ;;
esac

mkdir -p "$tools_dir"
install_tool() { # <binary> <package@version>
  local bin=$1 pkg=$2 stamp="$tools_dir/.$1.version"
  if [ -x "$tools_dir/$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$pkg" ]; then
    return
  fi
  echo "generate: installing $pkg"
  GOWORK=off GOBIN="$tools_dir" GOFLAGS=-mod=mod go install "$pkg"
  echo "$pkg" >"$stamp"
}
install_tool protoc-gen-go "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"
install_tool protoc-gen-go-grpc "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC_VERSION"

cd "$sdk_dir/proto"
protoc \
  --plugin=protoc-gen-go="$tools_dir/protoc-gen-go" \
  --plugin=protoc-gen-go-grpc="$tools_dir/protoc-gen-go-grpc" \
  --go_out=. --go_opt=paths=source_relative \
  --go-grpc_out=. --go-grpc_opt=paths=source_relative \
  pgdock/plugin/v1/plugin.proto
echo "generate: proto/pgdock/plugin/v1 up to date"
