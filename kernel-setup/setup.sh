#!/usr/bin/env bash
# Sets up the notebook side of the lab on a machine with Rust and Python 3. Idempotent: a second
# run that has nothing to do finishes in seconds.
#
#   kernel-setup/setup.sh          install what is missing, register the Rust kernel, warm the cache
#   kernel-setup/setup.sh --check  report what is installed and what is missing; change nothing
#
# What it sets up:
#   - evcxr_jupyter (the Rust Jupyter kernel), pinned, built with `cargo install --locked` from
#     its crates.io sources with the lab's patch (kernel-setup/evcxr-0.22.0.patch says what it
#     changes and why)
#   - .venv/ with JupyterLab and the notebook runner, pinned in kernel-setup/requirements.txt
#   - the kernel registered for Jupyter under the name "rust", started by kernel-setup/rust-kernel
#     in a compile folder that stays, under /var/tmp/tracing-lab-$UID/ with the cargo
#     configuration there (see KERNEL_HOME below)
#   - evcxr's compiled-dependency cache turned on (`:cache` in evcxr's init.evcxr, with `:opt 0`
#     and `:offline 1`) and warmed with every crate the notebooks ask for, tracelab included, so
#     that the first `:dep` cell of a notebook is quick
set -euo pipefail
cd "$(dirname "$0")/.."

EVCXR_VERSION=0.22.0
# The crates evcxr_jupyter is built from, with their sha256 as crates.io's index gives it.
EVCXR_CRATES=(
    "evcxr ee69caeeefc311959b85962458e370d8eccb165123edbc5270134aaee6d7ed80"
    "evcxr_jupyter 3ce0d7b3058f68a9673df4f1266b641942fea0ec131881d095306e509a382764"
)
EVCXR_PATCH=kernel-setup/evcxr-$EVCXR_VERSION.patch
CACHE_MIB=4096
VENV=.venv
EVCXR_CONFIG_DIR="${XDG_CONFIG_HOME:-$HOME/.config}/evcxr"
# Where the lab's kernels compile: each kernel in a numbered folder under kernels/ that it holds
# while it runs and the next kernel reuses (kernel-setup/rust-kernel says why), and the warming
# kernels in folders that stay, under evcxr-warm/ (kernel-setup/warm_cache.py says why the cache
# needs them). Not under the home
# folder: warm_cache.py says why too. The cargo configuration above both folders compiles tracelab,
# the notebooks' path dependency, without incremental compilation: evcxr 0.22 caches no crate that
# is compiled incrementally (that is how it tells a local crate from a downloaded one), and cargo
# compiles path dependencies incrementally, so without it every new kernel compiled tracelab again
# (2 to 2.5 s of the first `:dep` cell, measured here). The cache keys a crate by its rustc
# command line, not by its source, so when tracelab changes its entries are removed (warm_cache.py).
KERNEL_HOME="/var/tmp/tracing-lab-$(id -u)"
WARM_DIR="$KERNEL_HOME/evcxr-warm"
# What the cache was last warmed for (warm_key), beside the cache rather than in one clone of the
# lab: another clone with the same lessons and tracelab (a CI run's, say) finds it warm too.
WARM_STAMP="$KERNEL_HOME/warm-key"
KERNEL_TMPDIR="$KERNEL_HOME/kernels"
# What the installed evcxr_jupyter was built from: its version and the patch's checksum.
EVCXR_BUILT="$KERNEL_HOME/evcxr-built-from"
CARGO_SETTINGS='[profile.dev.package.tracelab]
incremental = false'

say() { printf 'kernel-setup: %s\n' "$*"; }
die() { printf 'kernel-setup: error: %s\n' "$*" >&2; exit 1; }

evcxr_build_key() {
    echo "evcxr_jupyter $EVCXR_VERSION, patch $(sha256sum < "$EVCXR_PATCH" | cut -c1-16)"
}

# The build key the installed evcxr_jupyter was built with, or "none".
evcxr_built_from() {
    cat "$EVCXR_BUILT" 2>/dev/null || echo none
}

# True when the evcxr_jupyter on PATH is the one this script builds: cargo installed it from a
# folder (not from crates.io) and the version and patch it was built with are today's.
evcxr_installed() {
    command -v evcxr_jupyter >/dev/null &&
        cargo install --list 2>/dev/null | grep -q "^evcxr_jupyter v$EVCXR_VERSION (.*):$" &&
        [ "$(evcxr_built_from)" = "$(evcxr_build_key)" ]
}

# Downloads evcxr's and evcxr_jupyter's sources from crates.io into folder $1, checks them against
# the checksums above, and applies the lab's patch.
evcxr_sources() {
    local folder=$1 crate name sha256
    for crate in "${EVCXR_CRATES[@]}"; do
        read -r name sha256 <<< "$crate"
        python3 - "$name" "$EVCXR_VERSION" "$sha256" "$folder/$name.crate" <<'PY' || return 1
import hashlib, sys, urllib.request
name, version, sha256, target = sys.argv[1:]
url = f"https://static.crates.io/crates/{name}/{name}-{version}.crate"
try:
    data = urllib.request.urlopen(url, timeout=60).read()
except OSError as error:
    sys.exit(f"could not download {url}: {error}")
if hashlib.sha256(data).hexdigest() != sha256:
    sys.exit(f"{url} does not have the sha256 crates.io's index gives ({sha256})")
open(target, "wb").write(data)
PY
        tar -xzf "$folder/$name.crate" -C "$folder" || return 1
    done
    patch --quiet --directory="$folder" -p1 < "$EVCXR_PATCH"
}

build_evcxr() {
    command -v patch >/dev/null || die "patch not found: install it (Debian, Ubuntu: sudo apt-get install patch), then run this again"
    local folder="$KERNEL_HOME/evcxr-source"
    rm -rf "$folder"
    mkdir -p "$folder" || die "could not create $folder"
    evcxr_sources "$folder" || die "could not get evcxr $EVCXR_VERSION's sources from crates.io and patch them with $EVCXR_PATCH"
    cargo install --locked --force --path "$folder/evcxr_jupyter-$EVCXR_VERSION" --target-dir "$folder/target" ||
        die "cargo could not build evcxr_jupyter $EVCXR_VERSION (sources in $folder)"
    evcxr_build_key > "$EVCXR_BUILT"
    rm -rf "$folder"
}

# True when Jupyter lists the "rust" kernel, started by this clone's kernel-setup/rust-kernel,
# with its TMPDIR under $KERNEL_TMPDIR.
kernel_registered() {
    [ -x "$VENV/bin/jupyter" ] && "$VENV/bin/jupyter" kernelspec list --json 2>/dev/null |
        "$VENV/bin/python" -c '
import json, pathlib, sys
rust = json.load(sys.stdin)["kernelspecs"].get("rust")
if not rust:
    sys.exit(1)
launcher = pathlib.Path(rust["resource_dir"]) / "rust-kernel"
sys.exit(
    0
    if rust["spec"].get("env", {}).get("TMPDIR") == sys.argv[1]
    and rust["spec"]["argv"][0] == str(launcher)
    and launcher.is_file()
    and launcher.read_bytes() == pathlib.Path(sys.argv[2]).read_bytes()
    else 1
)' "$KERNEL_TMPDIR" kernel-setup/rust-kernel
}

# Has the kernel.json that `evcxr_jupyter --install` wrote start the kernel with
# kernel-setup/rust-kernel (copied beside it), with TMPDIR under $KERNEL_TMPDIR.
set_kernel_launcher() {
    "$VENV/bin/jupyter" kernelspec list --json | "$VENV/bin/python" -c '
import json, pathlib, shutil, sys
folder = pathlib.Path(json.load(sys.stdin)["kernelspecs"]["rust"]["resource_dir"])
launcher = folder / "rust-kernel"
shutil.copyfile(sys.argv[2], launcher)
launcher.chmod(0o755)
spec_file = folder / "kernel.json"
spec = json.loads(spec_file.read_text())
spec["argv"] = [str(launcher), *spec["argv"][1:]]
spec.setdefault("env", {})["TMPDIR"] = sys.argv[1]
spec_file.write_text(json.dumps(spec, indent=2) + "\n")' "$KERNEL_TMPDIR" kernel-setup/rust-kernel
}

kernel_folders_ready() {
    [ -d "$KERNEL_TMPDIR" ] && [ "$(cat "$KERNEL_HOME/.cargo/config.toml" 2>/dev/null)" = "$CARGO_SETTINGS" ]
}

make_kernel_folders() {
    mkdir -p "$KERNEL_TMPDIR" "$KERNEL_HOME/.cargo" || die "could not create $KERNEL_TMPDIR"
    printf '%s\n' "$CARGO_SETTINGS" > "$KERNEL_HOME/.cargo/config.toml"
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

# The lines the lab needs in evcxr's start-up file, which every kernel reads: `:cache` keeps
# compiled crates between kernels; `:opt 0` compiles cells faster (evcxr's default is 2);
# `:offline 1` lets cargo resolve the `:dep` lines from what it already has, without asking the
# crate registry first (0.5 s of the first `:dep` cell, measured here; the warming kernels ran
# online, so the crates are there).
INIT_LINES=(":cache $CACHE_MIB" ":opt 0" ":offline 1")

# True when init.evcxr sets the setting of line $1 (":cache 4096" sets `:cache`), to any value: a
# line the user wrote for the same setting (":cache 1024") stays as it is.
has_init_setting() {
    grep -qE "^${1%% *} " "$EVCXR_CONFIG_DIR/init.evcxr" 2>/dev/null
}

cache_configured() {
    local line
    for line in "${INIT_LINES[@]}"; do
        has_init_setting "$line" || return 1
    done
}

# The lessons the cache is warmed for: their solved versions (the student versions have the same
# `:dep` lines: they are generated from these).
LESSONS=notebooks/solved/en

# Every `:dep` line of every lesson, tracelab's source, and the evcxr version: what the warm cache
# is for.
warm_key() {
    # "warm-folders": the cache is warmed in folders that stay (kernel-setup/warm_cache.py says why);
    # "first-kernel-folder": and the kernels' first compile folder is filled (warm_cache.py too).
    {
        echo "$EVCXR_VERSION warm-folders first-kernel-folder $CARGO_SETTINGS"
        cat "$LESSONS"/*.ipynb | grep -o ':dep .*' | sort -u
        find tracelab/Cargo.toml tracelab/src -type f | sort | xargs cat
    } | sha256sum | cut -c1-16
}

check() {
    local missing=0
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
    if evcxr_installed; then
        say "ok       $(evcxr_build_key)"
    else
        say "MISSING  $(evcxr_build_key) (found: $(evcxr_built_from))"; missing=1
    fi
    if requirements_met && nbgrader_ui_off; then
        say "ok       JupyterLab $("$VENV/bin/jupyter-lab" --version), nbgrader and the notebook runner in $VENV/"
    else
        say "MISSING  $VENV/ does not have the versions in kernel-setup/requirements.txt (with nbgrader's UI off)"; missing=1
    fi
    if kernel_registered; then
        say "ok       Jupyter kernel 'rust' registered, started by kernel-setup/rust-kernel, compiling in $KERNEL_TMPDIR"
    else
        say "MISSING  Jupyter kernel 'rust' (started by kernel-setup/rust-kernel, compiling in $KERNEL_TMPDIR)"; missing=1
    fi
    if kernel_folders_ready; then
        say "ok       $KERNEL_HOME/.cargo/config.toml"
    else
        say "MISSING  $KERNEL_TMPDIR or $KERNEL_HOME/.cargo/config.toml"; missing=1
    fi
    if cache_configured; then
        say "ok       evcxr cache on, offline ($EVCXR_CONFIG_DIR/init.evcxr)"
    else
        say "MISSING  ${INIT_LINES[*]} in $EVCXR_CONFIG_DIR/init.evcxr"; missing=1
    fi
    if [ -f "$WARM_STAMP" ] && [ "$(cat "$WARM_STAMP")" = "$(warm_key)" ] && [ -d "$WARM_DIR" ]; then
        say "ok       evcxr cache warm for the notebooks' dependencies"
    else
        say "MISSING  evcxr cache not warmed for the notebooks' current dependencies"; missing=1
    fi
    if [ "$missing" = 0 ]; then say "everything is set up"; else say "run kernel-setup/setup.sh to set up what is missing"; fi
    return "$missing"
}

# A virtual environment with the versions kernel-setup/requirements.txt pins.
install_python_env() {
    if [ ! -x "$VENV/bin/python" ]; then
        python3 -m venv "$VENV" || { echo "python3 -m venv failed: install your system's python3-venv package"; return 1; }
    fi
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r kernel-setup/requirements.txt
}

setup() {
    command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs), then run this again"
    command -v python3 >/dev/null || die "python3 not found: install Python 3.9 or newer"

    # JupyterLab's packages download while evcxr compiles: the one waits on the network, the other
    # on the processor.
    say "[1/5] JupyterLab in $VENV/ (kernel-setup/requirements.txt)"
    local pip_job="" pip_log
    if requirements_met; then
        say "      installed"
    else
        pip_log=$(mktemp "${TMPDIR:-/tmp}/lab-pip-install.XXXXXX")
        say "      installing with pip, while the next step runs (pip's output: $pip_log)"
        install_python_env > "$pip_log" 2>&1 &
        pip_job=$!
    fi

    say "[2/5] the Rust kernel, evcxr_jupyter $EVCXR_VERSION"
    if evcxr_installed; then
        say "      installed: $(evcxr_build_key)"
    else
        say "      building $(evcxr_build_key) from crates.io's sources (found: $(evcxr_built_from))."
        say "      This compiles 340 crates: about 7 minutes on 2 cores, once (cargo counts them below)."
        build_evcxr
        command -v evcxr_jupyter >/dev/null || die "evcxr_jupyter was built but is not on PATH: add ~/.cargo/bin to PATH"
    fi
    if [ -n "$pip_job" ]; then
        wait "$pip_job" || { tail -n 20 "$pip_log" >&2; die "could not install kernel-setup/requirements.txt into $VENV/ (is PyPI reachable?); pip's output is above and in $pip_log"; }
        requirements_met || die "pip ran, but $VENV/ does not have the versions in kernel-setup/requirements.txt (pip's output: $pip_log)"
        rm -f "$pip_log"
        say "      JupyterLab installed in $VENV/"
    fi
    nbgrader_ui_off || turn_nbgrader_ui_off

    say "[3/5] registering the kernel with Jupyter"
    kernel_folders_ready || make_kernel_folders
    if kernel_registered; then
        say "      the 'rust' kernel is registered"
    else
        evcxr_jupyter --install >/dev/null
        set_kernel_launcher
        kernel_registered || die "evcxr_jupyter --install ran but Jupyter does not list a 'rust' kernel started by kernel-setup/rust-kernel"
        say "      registered the 'rust' kernel, started by kernel-setup/rust-kernel, compiling in $KERNEL_TMPDIR"
    fi

    say "[4/5] evcxr's start-up file"
    if cache_configured; then
        say "      ready: $EVCXR_CONFIG_DIR/init.evcxr"
    else
        mkdir -p "$EVCXR_CONFIG_DIR"
        local line
        for line in "${INIT_LINES[@]}"; do
            has_init_setting "$line" || echo "$line" >> "$EVCXR_CONFIG_DIR/init.evcxr"
        done
        say "      ${INIT_LINES[*]} in $EVCXR_CONFIG_DIR/init.evcxr"
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
