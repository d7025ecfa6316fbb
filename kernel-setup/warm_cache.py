"""Warms evcxr's dependency cache: runs the `:dep` lines of the lab's notebooks on the Rust kernel.

Usage: python kernel-setup/warm_cache.py NOTEBOOK_DIR

Each notebook's lines run together, in a kernel of their own, in NOTEBOOK_DIR, so that path
dependencies such as `:dep tracelab = { path = "../../../tracelab" }` resolve as they do for the
lessons themselves (kernel-setup/setup.sh passes notebooks/solved/en). One kernel per set of lines,
not one for all: the cache keeps a crate per set of features, and the notebooks ask for different
ones (07 adds `logs` to the OpenTelemetry crates), so each set is compiled as its notebook asks
for it. Notebooks with the same lines share one run.

Each warming kernel compiles in a folder that stays (`EVCXR_TMPDIR`, under WARM_HOME), not in the
temporary folder evcxr would make and remove. The cache keeps a crate's dep-info file as rustc
wrote it, with absolute paths to what the crate's build script generated (thiserror's and
serde_core's `private.rs`, mime_guess's tables), in the folder it was compiled in. Were that folder
gone, every later kernel would find those files missing, take the crates as stale, and have cargo
"compile" them again, from the cache, in every cell: measured here, 0.7 s of every trivial cell.
With the folder kept, the paths lead to real files and the crates are fresh.

Then each set's lines run once more, offline, in a kernel started as JupyterLab starts one
(kernel-setup/rust-kernel), in the compile folder the lab's kernels take first: the first notebook
a student opens then finds its crates compiled there, whichever lesson it is (measured here: 03's
first `:dep` cell 5.8 s in a new folder, 4.4 s in a folder that has compiled it).
"""

import hashlib
import os
import shutil
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def dep_sets(notebook_dir):
    """Each distinct set of a notebook's `:dep` lines, with the notebooks that use it."""
    sets = {}
    for path in sorted(notebook_dir.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        lines = tuple(
            line
            for cell in notebook.cells
            if cell.cell_type == "code"
            for line in cell.source.splitlines()
            if line.startswith(":dep ")
        )
        if lines:
            sets.setdefault(lines, []).append(path.stem)
    return sets


CACHE_HOME = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
EVCXR_CACHE = CACHE_HOME / "evcxr"  # evcxr's cache (`:cache`)
# Where the warming kernels compile, one folder per set of lines (kernel-setup/setup.sh reads the
# same default). Not under the home folder: evcxr's compiled cells find Rust's standard library
# through a relative run path that climbs one folder too many, which only does no harm when the
# folder and the toolchain (often ~/.rustup) have nothing but `/` in common (seen here: with the
# folder under /root, every kernel failed its first cell with "dlopen failed").
# `.cargo/config.toml` in the folder above (setup.sh writes it) has tracelab compiled so that the
# cache keeps it.
WARM_HOME = Path(f"/var/tmp/tracing-lab-{os.getuid()}/evcxr-warm")


# Crates compiled from a path, whose cache entries go stale when their source changes.
LOCAL_CRATES = {"tracelab"}


def crate_name(entry):
    """The crate an entry of evcxr's cache holds: its `meta` file is the rustc command line, one
    argument per line."""
    arguments = (entry / "meta").read_text().splitlines()
    return arguments[arguments.index("--crate-name") + 1] if "--crate-name" in arguments else None


def forget_local_crates(cache):
    """Removes the entries of evcxr's `cache` for crates compiled from a path (tracelab): evcxr
    keys an entry by the rustc command line, which stays the same when the crate's source
    changes."""
    for meta in cache.glob("*/meta"):
        if crate_name(meta.parent) in LOCAL_CRATES:
            shutil.rmtree(meta.parent)


def warm_folder(lines):
    return WARM_HOME / hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def run_lines(notebook_dir, lines, env):
    """Runs `lines` as one cell on a new Rust kernel, in `notebook_dir`, with environment `env`."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "rust", "display_name": "Rust", "language": "rust"}
    notebook.cells.append(nbformat.v4.new_code_cell("\n".join(lines)))
    client = NotebookClient(
        notebook,
        kernel_name="rust",
        timeout=1800,
        startup_timeout=120,
        resources={"metadata": {"path": str(notebook_dir)}},
    )
    client.execute(env=env)


def warm(notebook_dir, lines):
    folder = warm_folder(lines)
    # A kernel does not start well in a folder another kernel left: start from an empty one.
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    # Online: the lab's kernels are offline (`:offline 1` in evcxr's init.evcxr, setup.sh), and
    # this is where the crates are downloaded.
    run_lines(notebook_dir, (":offline 0", *lines), {**os.environ, "EVCXR_TMPDIR": str(folder)})


def fill_first_kernel_folder(notebook_dir, lines):
    """Compiles `lines` in the compile folder kernel-setup/rust-kernel gives the next kernel."""
    run_lines(notebook_dir, lines, {name: value for name, value in os.environ.items() if name != "EVCXR_TMPDIR"})


def main():
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        sys.exit("usage: warm_cache.py NOTEBOOK_DIR")
    notebook_dir = Path(sys.argv[1]).resolve()
    sets = dep_sets(notebook_dir)
    if not sets:
        print("kernel-setup: the notebooks have no :dep lines, nothing to warm")
        return
    if EVCXR_CACHE.is_dir() and not all(warm_folder(lines).is_dir() for lines in sets):
        # Entries made in a folder that is gone would be served again as they are: start over.
        print(
            f"kernel-setup:       emptying {EVCXR_CACHE}: its crates were compiled in folders since removed", flush=True
        )
        shutil.rmtree(EVCXR_CACHE)
        EVCXR_CACHE.mkdir()  # evcxr's `:cache`, at every kernel's start, needs the folder
    forget_local_crates(EVCXR_CACHE)
    for lines, notebooks in sets.items():
        print(f"kernel-setup:       {', '.join(notebooks)}: {len(lines)} crates", flush=True)
        started = time.monotonic()
        try:
            warm(notebook_dir, lines)
        except CellExecutionError as error:
            sys.exit(f"kernel-setup: error: the dependencies of {', '.join(notebooks)} did not compile:\n{error}")
        print(f"kernel-setup:       compiled in {time.monotonic() - started:.0f} s", flush=True)
    started = time.monotonic()
    for lines, notebooks in sets.items():
        try:
            fill_first_kernel_folder(notebook_dir, lines)
        except CellExecutionError as error:
            sys.exit(
                f"kernel-setup: error: the dependencies of {', '.join(notebooks)} did not compile offline:\n{error}"
            )
    print(
        f"kernel-setup:       and in the kernels' first compile folder in {time.monotonic() - started:.0f} s",
        flush=True,
    )


if __name__ == "__main__":
    main()
