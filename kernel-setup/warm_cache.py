"""Warms evcxr's dependency cache: runs every `:dep` line of the lab's notebooks on the Rust kernel.

Usage: python kernel-setup/warm_cache.py NOTEBOOK_DIR

The lines run in one cell, in NOTEBOOK_DIR, so that path dependencies such as
`:dep tracelab = { path = "../../../tracelab" }` resolve as they do for the lessons themselves
(kernel-setup/setup.sh passes notebooks/solved/en).
"""

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def dep_lines(notebook_dir):
    lines = []
    for path in sorted(notebook_dir.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type != "code":
                continue
            for line in cell.source.splitlines():
                if line.startswith(":dep ") and line not in lines:
                    lines.append(line)
    return lines


def main():
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        sys.exit("usage: warm_cache.py NOTEBOOK_DIR")
    notebook_dir = Path(sys.argv[1]).resolve()
    lines = dep_lines(notebook_dir)
    if not lines:
        print("kernel-setup: the notebooks have no :dep lines, nothing to warm")
        return
    for line in lines:
        print(f"kernel-setup:       {line}")
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "rust", "display_name": "Rust", "language": "rust"}
    notebook.cells.append(nbformat.v4.new_code_cell("\n".join(lines)))
    client = NotebookClient(
        notebook, kernel_name="rust", timeout=1800, startup_timeout=120,
        resources={"metadata": {"path": str(notebook_dir)}},
    )
    started = time.monotonic()
    try:
        client.execute()
    except CellExecutionError as error:
        sys.exit(f"kernel-setup: error: the notebooks' dependencies did not compile:\n{error}")
    print(f"kernel-setup:       compiled in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
