#!/usr/bin/env bash
# Builds the Jaeger the tests run (Jaeger 2.12.0, its Go module v1.75.0, pinned as a tool in
# go.mod and go.sum here) once, and prints the binary's path on stdout; messages go to stderr.
# The binary is kept under ~/.cache/rust-tracing-lab/jaeger/, in a folder named after this
# module's files, so a second run, or a run after `git clean`, only prints the path.
#
# Why from source: Jaeger publishes container images and release archives, and these machines
# reach neither; they reach the Go module proxy, which serves Jaeger's module. `go install
# ...@v1.75.0` is refused (Jaeger's go.mod has a `replace` directive); a module of our own that
# names Jaeger as a tool is what `go get -tool` and `go build` accept. Built this way the binary
# has no UI files (they come from a git submodule, not the Go module): its UI page is a
# placeholder, while its OTLP receivers, memory storage and query APIs are Jaeger's own.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

say() { printf 'jaeger: %s\n' "$*" >&2; }
die() { printf 'jaeger: error: %s\n' "$*" >&2; exit 1; }

version=2.12.0
key=$(cat "$here/go.mod" "$here/go.sum" "$0" | sha256sum | cut -c1-16)
cache="${LAB_CACHE:-$HOME/.cache/rust-tracing-lab}/jaeger/$version-$key"
binary="$cache/jaeger"
if [ -x "$binary" ]; then
    printf '%s\n' "$binary"
    exit 0
fi

command -v go >/dev/null || die "go not found: install Go 1.26 or newer (https://go.dev/dl), then run this again"
say "building Jaeger $version from its Go module (github.com/jaegertracing/jaeger v1.75.0): about"
say "4 minutes on 2 cores the first time (about 340 modules to fetch and compile), then kept in $cache"
mkdir -p "$cache"
started=$(date +%s)
# Built under a name of this run's own, then renamed: two builds at once never mix their output.
partial="$binary.partial.$$"
# GOTOOLCHAIN=local: build with the Go installed here, never download another toolchain.
# -trimpath and -s -w: no local paths or debug tables in the binary (121 MB -> about 80 MB).
if ! (cd "$here" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly go build -trimpath \
        -ldflags "-s -w -X github.com/jaegertracing/jaeger/internal/version.latestVersion=v$version" \
        -o "$partial" github.com/jaegertracing/jaeger/cmd/jaeger >&2); then
    rm -f "$partial"
    die "go build of Jaeger failed (is the Go module proxy reachable? GOPROXY=$(go env GOPROXY))"
fi
mv "$partial" "$binary"
say "built in $(( $(date +%s) - started )) s: $binary"
printf '%s\n' "$binary"
