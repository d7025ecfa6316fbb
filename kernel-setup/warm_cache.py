"""Warms evcxr's dependency cache: runs the `:dep` lines of the lab's notebooks on the Rust kernel.

Usage: python kernel-setup/warm_cache.py NOTEBOOK_DIR

Each notebook's lines run together, in a kernel of their own, in NOTEBOOK_DIR, so that path
dependencies such as `:dep tracelab = { path = "../../../tracelab" }` resolve as they do for the
lessons themselves (kernel-setup/setup.sh passes notebooks/solved/en). One kernel per set of lines,
not one for all: the cache keeps a crate per set of features, and the notebooks ask for different
ones (07 adds `logs` to the OpenTelemetry crates), so each set is compiled as its notebook asks
for it. Notebooks with the same lines share one run.
"""

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


def warm(notebook_dir, lines):
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "rust", "display_name": "Rust", "language": "rust"}
    notebook.cells.append(nbformat.v4.new_code_cell("\n".join(lines)))
    client = NotebookClient(
        notebook, kernel_name="rust", timeout=1800, startup_timeout=120,
        resources={"metadata": {"path": str(notebook_dir)}},
    )
    client.execute()


def main():
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        sys.exit("usage: warm_cache.py NOTEBOOK_DIR")
    notebook_dir = Path(sys.argv[1]).resolve()
    sets = dep_sets(notebook_dir)
    if not sets:
        print("kernel-setup: the notebooks have no :dep lines, nothing to warm")
        return
    for lines, notebooks in sets.items():
        print(f"kernel-setup:       {', '.join(notebooks)}: {len(lines)} crates", flush=True)
        started = time.monotonic()
        try:
            warm(notebook_dir, lines)
        except CellExecutionError as error:
            sys.exit(f"kernel-setup: error: the dependencies of {', '.join(notebooks)} did not compile:\n{error}")
        print(f"kernel-setup:       compiled in {time.monotonic() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
