"""The Rust kernel as kernel-setup/setup.sh leaves it, quick on a lesson's first cells.

- A kernel in a new compile folder takes tracelab, the lessons' own crate, from evcxr's cache instead of compiling it
  again: evcxr 0.22 caches no crate compiled incrementally, and setup.sh's cargo configuration
  above the kernels' folder compiles tracelab without.
- warm_cache.py forgets tracelab's entries when it warms again (evcxr keys an entry by the rustc
  command line, which stays the same when tracelab's source changes) and keeps the others.
"""

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from warm_cache import EVCXR_CACHE, crate_name, forget_local_crates  # noqa: E402

LESSONS = HERE.parent / "notebooks" / "solved" / "en"


def tracelab_hits():
    return {
        meta.parent: int((meta.parent / "hits").read_text())
        for meta in EVCXR_CACHE.glob("*/meta")
        if crate_name(meta.parent) == "tracelab"
    }


def run_the_first_cell_of_lesson_01(kernel_folders):
    """Runs lesson 01's `:dep` cell and a cell using tracelab on a new kernel that compiles in a
    folder under `kernel_folders` (kernel-setup/rust-kernel)."""
    lesson = nbformat.read(LESSONS / "01-nested-spans-to-stdout.ipynb", as_version=4)
    dep_cell = next(cell for cell in lesson.cells if cell.cell_type == "code" and ":dep tracelab" in cell.source)
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "rust", "display_name": "Rust", "language": "rust"}
    notebook.cells = [nbformat.v4.new_code_cell(dep_cell.source), nbformat.v4.new_code_cell("tracelab::show(1 + 1);")]
    NotebookClient(
        notebook, kernel_name="rust", timeout=300, startup_timeout=120, resources={"metadata": {"path": str(LESSONS)}}
    ).execute(env={**os.environ, "KERNEL_FOLDERS": str(kernel_folders)})
    assert "2" in notebook.cells[1].outputs[0]["data"]["text/plain"]


def test_a_kernel_in_a_new_folder_takes_tracelab_from_evcxrs_cache(kernel_folders):
    # The first kernel may compile tracelab: the cache keys it by its path too, and this clone of
    # the lab may be new to it.
    run_the_first_cell_of_lesson_01(kernel_folders / "first")
    before = tracelab_hits()
    assert before, f"evcxr's cache ({EVCXR_CACHE}) has no tracelab: is it on (kernel-setup/setup.sh)?"
    run_the_first_cell_of_lesson_01(kernel_folders / "second")
    after = tracelab_hits()
    assert any(after.get(entry, 0) > hits for entry, hits in before.items()), (
        "the second kernel compiled tracelab instead of taking it from evcxr's cache (no cache entry of tracelab was hit)"
    )


def entry(cache, name, crate):
    folder = cache / name
    folder.mkdir(parents=True)
    (folder / "meta").write_text(f"--crate-name\n{crate}\n--edition=2021\n")
    (folder / "hits").write_text("3")
    return folder


def test_warming_again_forgets_tracelab_and_keeps_the_downloaded_crates(tmp_path):
    tracelab = entry(tmp_path, "1", "tracelab")
    serde = entry(tmp_path, "2", "serde")
    named_like_it = entry(tmp_path, "3", "tracelab_helpers")
    forget_local_crates(tmp_path)
    assert not tracelab.exists()
    assert serde.exists() and named_like_it.exists()
