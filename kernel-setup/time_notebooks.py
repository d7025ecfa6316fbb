"""Times the lab's notebooks on the Rust kernel: the first `:dep` cell and the whole notebook.

Usage: .venv/bin/python kernel-setup/time_notebooks.py [NOTEBOOK ...]
       (default: the student versions, notebooks/student/en/*.ipynb, which `./lab up` opens)

Run it after kernel-setup/setup.sh to see what a student waits for. It executes each notebook the
way "Run All" does, keeps going past failing cells (notebook 02's export fails without Jaeger or a
collector), and prints one line per notebook. The servers of notebooks 03 and 04 listen on
LAB_SERVICE_PORT, LAB_BACKEND_PORT, LAB_FRONTEND_PORT and LAB_INVENTORY_PORT (5000-5003 by
default, or free ports when those are taken).
"""

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
        started = time.monotonic()
        client.execute()
        total = time.monotonic() - started
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        first_dep = next((cell for cell in code if ":dep " in cell.source), None)
        errors = sum(1 for cell in code for output in cell.outputs if output.output_type == "error")
        dep_time = seconds(first_dep) if first_dep else None
        print(
            f"{path.name}: first :dep cell {dep_time:.1f} s, whole notebook {total:.1f} s "
            f"({len(code)} code cells, {errors} error outputs)",
            flush=True,
        )


if __name__ == "__main__":
    main()
