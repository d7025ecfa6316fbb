"""Times the lab's notebooks on the Rust kernel: the first `:dep` cell and the whole notebook.

Usage: .venv/bin/python kernel-setup/time_notebooks.py [NOTEBOOK ...]
       (default: the student versions, notebooks/student/en/*.ipynb, which `./lab up` opens)

Run it after kernel-setup/setup.sh to see what a student waits for: the kernel's start, then
"Run All" (every cell, one after the other), the first `:dep` cell, the median cell after it, and
the three slowest cells after it (numbered among the code cells, from 1). It executes each notebook the
way "Run All" does, keeps going past failing cells (notebook 02's export fails without Jaeger or a
collector), and prints one line per notebook. The servers of notebooks 03 and 04 listen on
LAB_SERVICE_PORT, LAB_BACKEND_PORT, LAB_FRONTEND_PORT and LAB_INVENTORY_PORT (5000-5003 by
default, or free ports when those are taken).
"""

import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient

STUDENT_VERSIONS = Path(__file__).resolve().parents[1] / "notebooks" / "student" / "en"


def seconds(cell):
    timing = cell.metadata.get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return None

    def parse(stamp):
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))

    return (parse(end) - parse(start)).total_seconds()


def main():
    paths = [Path(arg) for arg in sys.argv[1:]] or sorted(STUDENT_VERSIONS.glob("*.ipynb"))
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        client = NotebookClient(
            notebook,
            kernel_name="rust",
            timeout=1800,
            allow_errors=True,
            record_timing=True,
            resources={"metadata": {"path": str(path.resolve().parent)}},
        )
        # As a student meets it: the kernel starts when the notebook opens, then Run All.
        started = time.monotonic()
        with client.setup_kernel():
            kernel_ready = time.monotonic()
            for index, cell in enumerate(notebook.cells):
                client.execute_cell(cell, index)
            finished = time.monotonic()
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        first_dep = next((index for index, cell in enumerate(code) if ":dep " in cell.source), 0)
        later = [seconds(cell) for cell in code[first_dep + 1 :]]
        errors = sum(1 for cell in code for output in cell.outputs if output.output_type == "error")
        slowest = sorted(((took, index) for index, took in enumerate(later)), reverse=True)
        print(
            f"{path.name}: kernel start {kernel_ready - started:.1f} s, Run All {finished - kernel_ready:.1f} s, "
            f"first :dep cell {seconds(code[first_dep]):.1f} s, median later cell {statistics.median(later):.2f} s "
            f"({len(code)} code cells, {errors} error outputs; slowest later cells: "
            + ", ".join(f"#{first_dep + 2 + index} {took:.1f} s" for took, index in slowest[:3])
            + ")",
            flush=True,
        )


if __name__ == "__main__":
    main()
