#!/usr/bin/env bash
# Times a first `./lab up` as a new user meets it: from a new clone of this repository, with a new
# home folder (no evcxr, no evcxr cache, no pip, npm or Go cache, no Jupyter kernel) and a new
# CARGO_HOME (every crate downloaded again), until JupyterLab prints its URL. Only the Rust
# toolchain (rustup's), Go, and the system's packages (python3, the linters, nginx, Chromium) are
# reused. With `test`, it times a first `./lab test` the same way, to its end.
#
#   kernel-setup/time_first_up.sh          # about 10 minutes on 2 cores
#   kernel-setup/time_first_up.sh test     # about half an hour
#
# It prints `first ./lab up: N s` (or `first ./lab test: N s`) and what the run said of its steps.
# Meanwhile the lab's kernel folder (/var/tmp/tracing-lab-$UID, see setup.sh) is moved aside, and
# put back at the end; nothing else of yours is touched.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
PORT=${PORT:-18899}
MODE=${1:-up}
case "$MODE" in up | test) ;; *) echo "time_first_up: '$MODE' is neither up nor test" >&2; exit 2 ;; esac
RUSTUP=$(command -v rustup) || { echo "time_first_up: rustup not found" >&2; exit 1; }
KERNEL_HOME="/var/tmp/tracing-lab-$(id -u)"
FRESH=$(mktemp -d "${TMPDIR:-/tmp}/lab-first-up.XXXXXX")
ASIDE="$FRESH/kernel-home-aside"

put_back() {
    pkill -f -- "--port $PORT" 2>/dev/null || true
    sleep 1
    rm -rf "$KERNEL_HOME"
    if [ -d "$ASIDE" ]; then mv "$ASIDE" "$KERNEL_HOME"; fi
    rm -rf "$FRESH"
}
trap put_back EXIT

mkdir -p "$FRESH/home" "$FRESH/bin"
for tool in cargo rustc rustup rustdoc cargo-clippy clippy-driver rustfmt cargo-fmt; do
    ln -s "$(dirname "$RUSTUP")/$tool" "$FRESH/bin/$tool"
done
git clone --quiet "$REPO" "$FRESH/clone"
if [ -d "$KERNEL_HOME" ]; then mv "$KERNEL_HOME" "$ASIDE"; fi

fresh_lab() {
    cd "$FRESH/clone"
    env -i HOME="$FRESH/home" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" CARGO_HOME="$FRESH/home/.cargo" \
        PATH="$FRESH/home/.cargo/bin:$FRESH/bin:/usr/local/go/bin:/usr/local/bin:/usr/bin:/bin" LANG=C.UTF-8 \
        ./lab "$@"
}

started=$(date +%s)
if [ "$MODE" = test ]; then
    if ! (fresh_lab test) > "$FRESH/test.log" 2>&1; then
        tail -n 30 "$FRESH/test.log" >&2
        echo "time_first_up: ./lab test failed (its output is above)" >&2
        exit 1
    fi
    echo "first ./lab test: $(($(date +%s) - started)) s"
    grep -E '^lab: \[[0-9]+ s\]|^kernel-setup: +compiled in|^autograde' "$FRESH/test.log"
    exit 0
fi
(fresh_lab up --no-browser --port "$PORT") > "$FRESH/up.log" 2>&1 &
lab=$!
until grep -q "http://127.0.0.1:$PORT" "$FRESH/up.log" 2>/dev/null; do
    if ! kill -0 "$lab" 2>/dev/null; then
        tail -n 30 "$FRESH/up.log" >&2
        echo "time_first_up: ./lab up stopped before JupyterLab started (its output is above)" >&2
        exit 1
    fi
    sleep 1
done
echo "first ./lab up: $(($(date +%s) - started)) s"
grep -E '^kernel-setup: +(compiled in|[0-9][0-9]-)' "$FRESH/up.log" | paste -sd ' ' -
