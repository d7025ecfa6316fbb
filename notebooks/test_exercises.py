"""The exercises, as a student meets them: the first Run All of a student version shows a symptom
and a first hint for every exercise and no answer; each exercise's usual wrong answers fail with
the right symptom, and the hints change on the second and third failed run; the answer itself is
never told, in the text, the hints, tracelab's messages or what the first Run All prints."""

from pathlib import Path

import nbformat
import pytest

from conftest import LANGUAGES, LESSONS, NOTEBOOKS, REPO, WORDS
from notebook_reading import (
    check_report,
    failures,
    first_failure,
    grade_id,
    hint,
    is_exercise,
    is_exercise_check,
    outputs_text,
    solution_lines,
    solution_regions,
    string_literals,
)
from wrong_solutions import WRONG


def exercises(language, version, lesson):
    notebook = nbformat.read(NOTEBOOKS / version / language / f"{lesson}.ipynb", as_version=4)
    return [cell for cell in notebook.cells if is_exercise(cell)]


def test_every_exercise_has_wrong_answers_that_fit_its_cell():
    for lesson in LESSONS:
        cells = {grade_id(cell): cell for cell in exercises("en", "solved", lesson)}
        assert set(WRONG.get(lesson, {})) == set(cells), (
            f"{lesson}: wrong answers for {sorted(WRONG.get(lesson, {}))}, exercises {sorted(cells)}"
        )
        for exercise, wrongs in WRONG[lesson].items():
            assert wrongs, f"{lesson} {exercise}: no wrong answer"
            for wrong in wrongs:
                assert len(wrong.code) == solution_regions(cells[exercise].source), f"{lesson} {exercise}: {wrong.name}"
                assert set(wrong.says) == set(LANGUAGES) and all(wrong.says.values()), (
                    f"{lesson} {exercise}: {wrong.name}"
                )


def test_at_least_half_the_exercises_need_more_than_three_lines():
    counts = [len(solution_lines(cell.source)) for lesson in LESSONS for cell in exercises("en", "solved", lesson)]
    longer = sum(count > 3 for count in counts)
    assert 2 * longer >= len(counts), f"{longer} of {len(counts)} exercises need more than three lines"


def added(notebook):
    """The cells the test added to a student's Run All, with their tags."""
    return [(cell, cell.metadata["lab_test"]) for cell in notebook.cells if "lab_test" in cell.metadata]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("lesson", LESSONS)
def test_the_first_run_all_shows_symptoms_and_first_hints_and_one_exercise_gets_done(graded, lesson, language):
    words = WORDS[language]
    notebook = graded["notebooks"][language, "student", lesson]
    first_run = [cell for cell in notebook.cells if "lab_test" not in cell.metadata]
    exercise_checks = 0
    for cell in first_run:
        if cell.cell_type != "code":
            continue
        assert not failures(cell), f"{lesson}: {cell.source[:80]!r} failed in the student version: {failures(cell)}"
        if is_exercise_check(cell):
            exercise_checks += 1
            report, passed = check_report(cell)
            assert passed is False, f"{lesson}: {grade_id(cell)} passed on the stub:\n{report}"
            assert first_failure(report), f"{lesson}: {grade_id(cell)} said no symptom:\n{report}"
            assert hint(report).startswith(words["hint"].format(1)), (
                f"{lesson}: {grade_id(cell)} gave no first hint:\n{report}"
            )
    assert exercise_checks >= 2, f"{lesson}: {exercise_checks} exercise checks"
    redone = [(cell, tag) for cell, tag in added(notebook) if "again" in tag and check_report(cell)[0] is not None]
    assert redone, f"{lesson}: the redone exercise {graded['redone'][language, lesson]} showed no check"
    report, passed = check_report(redone[-1][0])
    assert passed and words["done"] in report, (
        f"{lesson}: {redone[-1][1]['again']} with its solution still fails:\n{report}"
    )
    # nbgrader: the exercises score 0, the lesson's own check its points, a written answer waits for
    # its grader.
    scores = graded["scores"][language, "student", lesson]
    assert any(name.startswith("your-turn") for name in scores), f"{lesson}: nbgrader scored no exercise: {scores}"
    for name, (score, most, manual) in scores.items():
        expected = 0 if name.startswith("your-turn") else most
        assert manual or score == expected, f"{lesson}: {name} scored {score} of {most}, expected {expected}"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("lesson", LESSONS)
def test_each_wrong_answer_fails_with_its_symptom_and_the_hints_change(graded, lesson, language):
    words = WORDS[language]
    notebook = graded["notebooks"][language, "student", lesson]
    seen = set()
    for cell, tag in added(notebook):
        if "restore" in tag:
            assert not failures(cell), f"{lesson}: putting back {tag['restore']} failed: {failures(cell)}"
        if "wrong" not in tag:
            continue
        assert not failures(cell), f"{lesson} {tag}: {cell.source[:80]!r} failed: {failures(cell)}"
        if tag["run"] == 0:
            continue
        wrong = WRONG[lesson][tag["exercise"]][tag["wrong"]]
        where = f"{lesson} ({language}) {tag['exercise']}, {wrong.name!r}, run {tag['run']}"
        report, passed = check_report(cell)
        assert report is not None, f"{where}: no report"
        assert passed is False, f"{where}: the check passed:\n{report}"
        assert wrong.says[language] in first_failure(report), (
            f"{where}: the first ✘ is not the symptom {wrong.says[language]!r}:\n{report}"
        )
        assert hint(report).startswith(words["hint"].format(tag["run"])), f"{where}: not hint {tag['run']}:\n{report}"
        seen.add((tag["exercise"], tag["wrong"], tag["run"]))
    for exercise, wrongs in WRONG[lesson].items():
        for number in range(len(wrongs)):
            runs = [1, 2, 3] if number == 0 else [1]
            assert all((exercise, number, run) in seen for run in runs), (
                f"{lesson} {exercise}: wrong answer {number} was not checked"
            )


def tracelab_messages():
    """tracelab's messages: the string literals of its code, its tests left out."""
    texts = []
    for path in sorted((REPO / "tracelab" / "src").rglob("*.rs")):
        texts += string_literals(path.read_text().split("#[cfg(test)]")[0])
    return texts


def told_texts(language, lesson):
    """What a student reads in a lesson before doing its exercises: the student version's markdown
    and the string literals of its code cells (where a hint would hide)."""
    texts = []
    for cell in nbformat.read(NOTEBOOKS / "student" / language / f"{lesson}.ipynb", as_version=4).cells:
        if cell.cell_type == "markdown":
            texts.append(" ".join(cell.source.split()))
        else:
            texts += string_literals(cell.source)
    return texts


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_solution_line_is_told_before_the_exercise_is_done(graded, language):
    """No line of a lesson's solutions (a lone brace aside) is in its student version's text and
    code strings, in what its first Run All prints, or in tracelab's messages. (Given code that
    uses the same idiom is fine: an exercise applies an idea to a new case.)"""
    messages = tracelab_messages()
    leaks = []
    for lesson in LESSONS:
        told = told_texts(language, lesson) + messages
        printed = " ".join(
            " ".join(outputs_text(cell).split())
            for cell in graded["notebooks"][language, "student", lesson].cells
            if cell.cell_type == "code" and "lab_test" not in cell.metadata
        )
        for cell in exercises(language, "solved", lesson):
            for line in solution_lines(cell.source):
                places = [
                    name
                    for name, found in [
                        ("the text", any(line in text for text in told)),
                        ("the output", line in printed),
                    ]
                    if found
                ]
                if places:
                    leaks.append(f"{lesson} {grade_id(cell)}: {line!r} in {' and '.join(places)}")
    assert not leaks, "solution lines told before the exercise is done:\n" + "\n".join(leaks)


def test_the_answer_line_detector_finds_a_line_told_in_markdown(tmp_path):
    """The leak test's own parts catch a solution line written in a markdown cell or a string."""
    source = "let mut x = 0;\n// BEGIN SOLUTION\nx = answer(41) + 1;\n}\n// END SOLUTION\n"
    lines = solution_lines(source)
    assert lines == ["x = answer(41) + 1;"]
    markdown = "Write `x = answer(41) + 1;` in the cell."
    assert any(line in markdown for line in lines)
    assert any(
        line in text for line in lines for text in string_literals('tr!("set x = answer(41) \\\n   + 1; there")')
    )
    assert Path(__file__).exists()
