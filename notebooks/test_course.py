"""The course's form: the student versions are what nbgrader generates, both languages have the same
lessons with the same code, a lesson's own failing check stops Run All, the notebooks are
committed clean, every code cell has its note and every exercise its check, the links lead
somewhere."""

import json
import re

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from conftest import LANGUAGES, NOTEBOOKS, REPO, WORDS, course_directory, nbgrader
from notebook_reading import code_without_prose, grade_id, is_exercise, nbgrader_meta

CELL_TIMEOUT_S = 900  # a cold `:dep` cell compiles for minutes; a warm one in seconds


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_student_versions_are_what_nbgrader_generates(tmp_path, language):
    root = course_directory(tmp_path / "course")
    nbgrader(root, "generate_assignment", language, "--no-db")
    student = NOTEBOOKS / "student" / language
    generated = sorted(path.name for path in (root / "student" / language).glob("*.ipynb"))
    committed = sorted(path.name for path in student.glob("*.ipynb"))
    assert generated == committed, f"notebooks/student/{language} is not generated from notebooks/solved/{language}"
    for name in generated:
        assert (root / "student" / language / name).read_bytes() == (student / name).read_bytes(), (
            f"student/{language}/{name} is not what nbgrader makes of solved/{language}/{name}: "
            f"run ./lab nbgrader generate_assignment {language} --force"
        )


def test_the_student_stub_is_in_the_lessons_language():
    stubs = {"en": "// YOUR CODE HERE", "pt-BR": "// SEU CÓDIGO AQUI"}
    for language, stub in stubs.items():
        for path in sorted((NOTEBOOKS / "student" / language).glob("*.ipynb")):
            text = path.read_text()
            assert stub in text, f"student/{language}/{path.name} has no {stub!r}"
            for other in set(stubs.values()) - {stub}:
                assert other not in text, f"student/{language}/{path.name} has {other!r}"


def test_every_lesson_exists_in_every_language_with_the_same_code():
    names = {
        language: sorted(p.name for p in (NOTEBOOKS / "solved" / language).glob("*.ipynb")) for language in LANGUAGES
    }
    for language in LANGUAGES:
        assert names[language] == names["en"], f"solved/{language} has {names[language]}, solved/en {names['en']}"
    for name in names["en"]:
        english = nbformat.read(NOTEBOOKS / "solved" / "en" / name, as_version=4).cells
        for language in LANGUAGES[1:]:
            other = nbformat.read(NOTEBOOKS / "solved" / language / name, as_version=4).cells
            assert [c.cell_type for c in other] == [c.cell_type for c in english], (
                f"{language}/{name}: the cells differ"
            )
            for index, (a, b) in enumerate(zip(english, other, strict=True)):
                assert nbgrader_meta(a) == nbgrader_meta(b), (
                    f"{language}/{name} cell {index}: nbgrader metadata differs"
                )
                if a.cell_type == "code":
                    assert code_without_prose(b.source) == code_without_prose(a.source), (
                        f"{language}/{name} cell {index}: the code differs from the English lesson's, "
                        "not only in strings and comments"
                    )


def run_notebook(path, edit=None):
    """Executes a notebook on the Rust kernel as "Run All" does; raises on an error or a panic."""
    notebook = nbformat.read(path, as_version=4)
    if edit:
        edit(notebook)
    client = NotebookClient(
        notebook,
        kernel_name="rust",
        timeout=CELL_TIMEOUT_S,
        startup_timeout=120,
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute()
    except CellExecutionError as error:
        raise AssertionError(f"{path.name}: a cell failed:\n{error}") from error
    return notebook


def test_a_failing_check_of_the_lesson_stops_the_notebook():
    def expect_another_span(notebook):
        check_cell = next(c for c in notebook.cells if grade_id(c) == "check-nested-spans")
        check_cell.source = "tracelab::lesson01::check_lesson(&spans[..0]);"

    with pytest.raises(AssertionError, match='no span named \\\\?"test_span_01\\\\?" was captured'):
        run_notebook(NOTEBOOKS / "solved" / "en" / "01-nested-spans-to-stdout.ipynb", edit=expect_another_span)


def lesson_notebooks():
    return [
        path
        for language in LANGUAGES
        for version in ["solved", "student"]
        for path in sorted((NOTEBOOKS / version / language).glob("*.ipynb"))
    ]


def test_notebooks_are_committed_clean():
    """No outputs, no execution counts, the Rust kernelspec (nbgrader picks the student stub by
    its language): diffs stay readable."""
    for path in lesson_notebooks():
        notebook = json.loads(path.read_text())
        assert notebook["metadata"]["kernelspec"]["name"] == "rust", path.name
        assert notebook["metadata"]["kernelspec"]["language"] == "rust", path.name
        nbformat.validate(nbformat.reads(path.read_text(), as_version=4))
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path.name}: {cell['source'][:60]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_code_cell_is_introduced_and_every_exercise_is_checked(language):
    look = WORDS[language]["look"]
    for path in sorted((NOTEBOOKS / "solved" / language).glob("*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        exercises = 0
        for index, cell in enumerate(cells):
            if cell.cell_type != "code":
                continue
            assert index > 0 and cells[index - 1].cell_type == "markdown" and look in cells[index - 1].source, (
                f"{path.name}: no {look!r} note before {cell.source[:60]!r}"
            )
            if is_exercise(cell):
                exercises += 1
                assert "// BEGIN SOLUTION" in cell.source and "// END SOLUTION" in cell.source, (
                    f"{path.name}: {grade_id(cell)}"
                )
                checks = [c for c in cells[index + 1 :] if grade_id(c) == f"{grade_id(cell)}-check"]
                assert len(checks) == 1, f"{path.name}: {grade_id(cell)} has no check cell after it"
                # A check cell is a line or two that names what it checks.
                assert len(checks[0].source.strip().splitlines()) <= 2, f"{path.name}: {grade_id(cell)}-check is long"
        assert exercises >= 2, f"{path.name}: {exercises} exercises"


def jupyterlab_heading_ids(notebook):
    """The ids JupyterLab gives a notebook's headings: their text, spaces turned into '-'."""
    ids = set()
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for heading in re.findall(r"^#+ (.+)$", cell.source, re.M):
                ids.add(re.sub(r"[`*]", "", heading).strip().replace(" ", "-"))
    return ids


def test_links_between_lessons_lead_somewhere():
    for path in lesson_notebooks():
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "markdown":
                continue
            for target in re.findall(r"\]\(([^)\s]+\.ipynb(?:#[^)\s]*)?)\)", cell.source):
                file, _, anchor = target.partition("#")
                linked = (path.parent / file).resolve()
                assert linked.exists(), f"{path.name} links to {target}, which does not exist"
                if anchor:
                    ids = jupyterlab_heading_ids(nbformat.read(linked, as_version=4))
                    assert anchor in ids, f"{path.name} links to {target}: no such heading ({sorted(ids)})"


def test_notebook_03_names_the_services_files_as_they_are():
    cells = nbformat.read(NOTEBOOKS / "solved" / "en" / "03-instrument-a-web-service.ipynb", as_version=4).cells
    table = next(cell.source for cell in cells if "| file | what it adds" in cell.source)
    named = re.findall(r"^\| `(src/[^`]+)` \|", table, re.M)
    assert named, table
    for path in named:
        assert (REPO / "sample-service" / path).exists(), (
            f"notebook 03 names sample-service/{path}, which does not exist"
        )
    modules = {path.name for path in (REPO / "sample-service" / "src").iterdir()} - {
        "lib.rs",
        "main.rs",
        "healthcheck.rs",
        "signals.rs",
        "probe.rs",
    }
    assert {path.split("/")[1] for path in named} == modules, (
        "a module of the service is missing from notebook 03's table"
    )
