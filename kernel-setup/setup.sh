#!/usr/bin/env bash
# Sets up the notebook side of the lab on a machine with Rust and Python 3. Idempotent: a second
# run that has nothing to do finishes in seconds.
#
#   kernel-setup/setup.sh          install what is missing, register the Rust kernel, warm the cache
#   kernel-setup/setup.sh --check  report what is installed and what is missing; change nothing
#
# What it sets up:
#   - evcxr_jupyter (the Rust Jupyter kernel), pinned, built with `cargo install --locked`
#   - .venv/ with JupyterLab and the notebook runner, pinned in kernel-setup/requirements.txt
#   - the kernel registered for Jupyter under the name "rust"
#   - evcxr's compiled-dependency cache turned on (`:cache` in evcxr's init.evcxr) and warmed with
#     every crate the notebooks ask for, so that the first `:dep` cell of a notebook is quick
set -euo pipefail
cd "$(dirname "$0")/.."

EVCXR_VERSION=0.22.0
CACHE_MIB=4096
VENV=.venv
EVCXR_CONFIG_DIR="${XDG_CONFIG_HOME:-$HOME/.config}/evcxr"
WARM_STAMP="$VENV/.evcxr-cache-warm"
# The folders the warming kernels compiled in (kernel-setup/warm_cache.py): the cache needs them.
WARM_DIR="${LAB_EVCXR_WARM_DIR:-/var/tmp/tracing-lab-$(id -u)/evcxr-warm}"

say() { printf 'kernel-setup: %s\n' "$*"; }
die() { printf 'kernel-setup: error: %s\n' "$*" >&2; exit 1; }

# evcxr_jupyter has no --version; cargo's list of installed binaries knows it.
installed_evcxr_version() {
    command -v evcxr_jupyter >/dev/null || return 0
    cargo install --list 2>/dev/null | sed -n 's/^evcxr_jupyter v\([0-9.]*\):$/\1/p'
}

# True when version $1 >= version $2.
version_at_least() {
    [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$2" ]
}

kernel_registered() {
    [ -x "$VENV/bin/jupyter" ] && "$VENV/bin/jupyter" kernelspec list --json 2>/dev/null |
        "$VENV/bin/python" -c 'import json, sys; sys.exit(0 if "rust" in json.load(sys.stdin)["kernelspecs"] else 1)'
}

# True when .venv has exactly the versions kernel-setup/requirements.txt pins.
requirements_met() {
    [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - kernel-setup/requirements.txt <<'PY'
import sys
from importlib import metadata

def installed(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None

pins = [line.split("#")[0].strip() for line in open(sys.argv[1])]
pins = [pin.partition("==") for pin in pins if pin]
sys.exit(0 if all(installed(name) == version for name, _, version in pins) else 1)
PY
}

# nbgrader brings JupyterLab extensions (a menu, a Validate button, an assignment sidebar) for
# instructors. Students grade themselves with the lessons' check cells, and the Validate button
# would run outside the lab's nbgrader configuration, so the lab's JupyterLab leaves them off;
# the nbgrader command line (./lab nbgrader) does not need them.
NBGRADER_SERVER_EXTENSIONS="formgrader validate_assignment assignment_list course_list"

nbgrader_ui_off() {
    grep -q '"@jupyter/nbgrader"' "$VENV/etc/jupyter/labconfig/page_config.json" 2>/dev/null || return 1
    local extension
    for extension in $NBGRADER_SERVER_EXTENSIONS; do
        grep -q false "$VENV/etc/jupyter/jupyter_server_config.d/nbgrader.server_extensions.$extension.json" 2>/dev/null || return 1
    done
}

turn_nbgrader_ui_off() {
    "$VENV/bin/jupyter" labextension disable --level=sys_prefix @jupyter/nbgrader >/dev/null 2>&1
    local extension
    for extension in $NBGRADER_SERVER_EXTENSIONS; do
        "$VENV/bin/jupyter" server extension disable --sys-prefix "nbgrader.server_extensions.$extension" >/dev/null 2>&1
    done
    nbgrader_ui_off || die "could not turn nbgrader's JupyterLab extensions off in $VENV/"
}

cache_configured() {
    grep -qE '^:cache [0-9]+' "$EVCXR_CONFIG_DIR/init.evcxr" 2>/dev/null &&
        grep -qE '^:opt 0' "$EVCXR_CONFIG_DIR/init.evcxr" 2>/dev/null
}

# The lessons the cache is warmed for: their solved versions (the student versions have the same
# `:dep` lines: they are generated from these).
LESSONS=notebooks/solved/en

# Every `:dep` line of every lesson, plus the evcxr version: what the warm cache is for.
warm_key() {
    # "warm-folders": the cache is warmed in folders that stay (kernel-setup/warm_cache.py says why).
    { echo "$EVCXR_VERSION warm-folders"; cat "$LESSONS"/*.ipynb | grep -o ':dep .*' | sort -u; } | sha256sum | cut -c1-16
}

check() {
    local missing=0 version
    if command -v cargo >/dev/null; then
        say "ok       cargo: $(cargo --version)"
    else
        say "MISSING  cargo: install Rust with rustup"; missing=1
    fi
    if command -v python3 >/dev/null; then
        say "ok       python3: $(python3 --version 2>&1)"
    else
        say "MISSING  python3"; missing=1
    fi
    version=$(installed_evcxr_version)
    if [ -n "$version" ] && version_at_least "$version" "$EVCXR_VERSION"; then
        say "ok       evcxr_jupyter $version"
    else
        say "MISSING  evcxr_jupyter $EVCXR_VERSION (found: ${version:-none})"; missing=1
    fi
    if requirements_met && nbgrader_ui_off; then
        say "ok       JupyterLab $("$VENV/bin/jupyter-lab" --version), nbgrader and the notebook runner in $VENV/"
    else
        say "MISSING  $VENV/ does not have the versions in kernel-setup/requirements.txt (with nbgrader's UI off)"; missing=1
    fi
    if kernel_registered; then
        say "ok       Jupyter kernel 'rust' registered"
    else
        say "MISSING  Jupyter kernel 'rust'"; missing=1
    fi
    if cache_configured; then
        say "ok       evcxr cache on ($EVCXR_CONFIG_DIR/init.evcxr)"
    else
        say "MISSING  evcxr cache setting in $EVCXR_CONFIG_DIR/init.evcxr"; missing=1
    fi
    if [ -f "$WARM_STAMP" ] && [ "$(cat "$WARM_STAMP")" = "$(warm_key)" ] && [ -d "$WARM_DIR" ]; then
        say "ok       evcxr cache warm for the notebooks' dependencies"
    else
        say "MISSING  evcxr cache not warmed for the notebooks' current dependencies"; missing=1
    fi
    if [ "$missing" = 0 ]; then say "everything is set up"; else say "run kernel-setup/setup.sh to set up what is missing"; fi
    return "$missing"
}

setup() {
    command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs), then run this again"
    command -v python3 >/dev/null || die "python3 not found: install Python 3.9 or newer"

    say "[1/5] the Rust kernel, evcxr_jupyter $EVCXR_VERSION"
    local version
    version=$(installed_evcxr_version)
    if [ -n "$version" ] && version_at_least "$version" "$EVCXR_VERSION"; then
        say "      evcxr_jupyter $version is installed"
    else
        say "      building evcxr_jupyter $EVCXR_VERSION from crates.io (found: ${version:-none})."
        say "      This compiles about 400 crates: roughly 7 minutes on 2 cores. It happens once."
        cargo install evcxr_jupyter --version "$EVCXR_VERSION" --locked
        command -v evcxr_jupyter >/dev/null || die "evcxr_jupyter was built but is not on PATH: add ~/.cargo/bin to PATH"
    fi

    say "[2/5] JupyterLab in $VENV/ (kernel-setup/requirements.txt)"
    if [ ! -x "$VENV/bin/python" ]; then
        python3 -m venv "$VENV" || die "python3 -m venv failed: install your system's python3-venv package"
    fi
    if requirements_met; then
        say "      installed"
    else
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r kernel-setup/requirements.txt ||
            die "could not install kernel-setup/requirements.txt into $VENV/ (is PyPI reachable?)"
    fi
    nbgrader_ui_off || turn_nbgrader_ui_off

    say "[3/5] registering the kernel with Jupyter"
    if kernel_registered; then
        say "      the 'rust' kernel is registered"
    else
        evcxr_jupyter --install >/dev/null
        kernel_registered || die "evcxr_jupyter --install ran but Jupyter does not list a 'rust' kernel"
        say "      registered the 'rust' kernel"
    fi

    say "[4/5] evcxr's dependency cache"
    if cache_configured; then
        say "      on, in $EVCXR_CONFIG_DIR/init.evcxr"
    else
        mkdir -p "$EVCXR_CONFIG_DIR"
        # :cache keeps compiled crates between kernels; :opt 0 compiles cells faster (evcxr's
        # default is 2). Both go to evcxr's own start-up file, which every kernel reads.
        grep -qE '^:cache [0-9]+' "$EVCXR_CONFIG_DIR/init.evcxr" 2>/dev/null || echo ":cache $CACHE_MIB" >> "$EVCXR_CONFIG_DIR/init.evcxr"
        grep -qE '^:opt 0' "$EVCXR_CONFIG_DIR/init.evcxr" 2>/dev/null || echo ":opt 0" >> "$EVCXR_CONFIG_DIR/init.evcxr"
        say "      cache on (${CACHE_MIB} MiB) and quick compiles (:opt 0) in $EVCXR_CONFIG_DIR/init.evcxr"
    fi

    say "[5/5] warming the cache with the notebooks' dependencies"
    local key
    key=$(warm_key)
    if [ -f "$WARM_STAMP" ] && [ "$(cat "$WARM_STAMP")" = "$key" ] && [ -d "$WARM_DIR" ]; then
        say "      already warm"
    else
        say "      compiling the crates the notebooks use: about 2 minutes the first time"
        "$VENV/bin/python" kernel-setup/warm_cache.py "$LESSONS"
        echo "$key" > "$WARM_STAMP"
    fi
    say "done: the Rust kernel is ready"
}

case "${1:-}" in
    --check) check ;;
    "") setup ;;
    *) die "unknown option '$1': use no option to set up, or --check to report" ;;
esac
