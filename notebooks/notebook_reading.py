"""Reading the lessons: their cells' nbgrader roles, what an executed cell printed and showed, the
report a check cell drew, and the solution regions of an exercise."""

import html
import re

BEGIN, END = "// BEGIN SOLUTION", "// END SOLUTION"


def nbgrader_meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def grade_id(cell):
    return nbgrader_meta(cell).get("grade_id", "")


def is_exercise(cell):
    """A code cell the student writes in (a markdown answer is graded by hand, and has no check)."""
    return cell.cell_type == "code" and nbgrader_meta(cell).get("solution", False)


def is_written_answer(cell):
    return cell.cell_type == "markdown" and nbgrader_meta(cell).get("solution", False)


def is_exercise_check(cell):
    return nbgrader_meta(cell).get("grade", False) and grade_id(cell).endswith("-check")


def check_of(cells, index):
    """The index of the check cell of the exercise at `index`."""
    return next(i for i in range(index + 1, len(cells)) if grade_id(cells[i]) == f"{grade_id(cells[index])}-check")


def outputs_text(cell):
    """What a cell printed and showed, as text: streams, plain text values, and HTML as text."""
    texts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            texts.append(output.get("text", ""))
        data = output.get("data", {})
        if "text/html" in data:
            texts.append(html.unescape(re.sub(r"<[^>]+>", "", data["text/html"])))
        elif "text/plain" in data:
            texts.append(data["text/plain"])
    return "".join(text if text.endswith("\n") else text + "\n" for text in texts)


def stdout(notebook):
    return "".join(outputs_text(cell) for cell in notebook.cells if cell.cell_type == "code")


def html_outputs(notebook):
    return [
        output["data"]["text/html"]
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "text/html" in output.get("data", {})
    ]


def cell_with(notebook, text, tag=None):
    """The first code cell whose source holds `text` (and, given `tag`, that a test added with
    that tag), as graded."""
    return next(
        cell
        for cell in notebook.cells
        if cell.cell_type == "code" and text in cell.source and (tag is None or cell.metadata.get("lab_test") == tag)
    )


def waterfalls(notebook):
    return [page for page in html_outputs(notebook) if "tracelab-waterfall" in page]


def failures(cell):
    """Error outputs and panics of a cell: what no cell of a lesson may show."""
    found = [f"{o.get('ename')}: {o.get('evalue')}" for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    found += [
        o.get("text", "")
        for o in cell.get("outputs", [])
        if o.get("output_type") == "stream" and "panicked at" in o.get("text", "")
    ]
    return found


def check_report(cell):
    """The report a checklist showed (its HTML as text, links as their text), and whether it
    passed; `(None, None)` when the cell showed none."""
    for output in cell.get("outputs", []):
        page = output.get("data", {}).get("text/html", "")
        found = re.search(r'<pre class="tracelab-check (passed|failed)"[^>]*>(.*?)</pre>', page, re.S)
        if found:
            return html.unescape(re.sub(r"<[^>]+>", "", found.group(2))), found.group(1) == "passed"
    return None, None


def first_failure(report):
    """The report's first ✘ line: what the student's code produced."""
    return next((line.strip() for line in report.splitlines() if line.strip().startswith("✘")), "")


def hint(report):
    """The report's hint line."""
    return next((line for line in report.splitlines() if line.startswith(("Hint ", "Dica "))), "")


def replace_solutions(source, codes):
    """`source` with its solution regions replaced by `codes`, one text a region, indented as the
    region was."""
    out, regions, inside = [], 0, False
    for line in source.split("\n"):
        if BEGIN in line:
            indent = line[: len(line) - len(line.lstrip())]
            out += [indent + code_line if code_line else "" for code_line in codes[regions].split("\n")]
            regions += 1
            inside = True
        elif END in line:
            inside = False
        elif not inside:
            out.append(line)
    assert regions == len(codes), f"{regions} solution regions, {len(codes)} replacements"
    return "\n".join(out)


def solution_regions(source):
    return source.count(BEGIN)


def solution_lines(source):
    """The lines of a cell's solution regions that say something: not blank, not a comment, not a
    lone brace (or parenthesis, bracket, semicolon, comma)."""
    lines, inside = [], False
    for line in source.splitlines():
        if BEGIN in line:
            inside = True
        elif END in line:
            inside = False
        elif inside:
            stripped = line.strip()
            if stripped and not stripped.startswith("//") and not re.fullmatch(r"[\s{}()\[\];,]*", stripped):
                lines.append(" ".join(stripped.split()))
    return lines


def string_literals(source):
    """The contents of a Rust source's string literals, a backslash-newline continuation and its
    indentation joined and `\\"` read as `"`."""
    found = re.findall(r'"((?:\\[\s\S]|[^"\\])*)"', source)
    return [" ".join(re.sub(r"\\\n\s*", "", text).replace('\\"', '"').split()) for text in found]


def code_without_prose(source):
    """A code cell with its string literals and comments taken out: what must be the same in every
    language (the strings and comments are the reader's, and are translated)."""
    source = re.sub(r'r#"[\s\S]*?"#|"(?:\\[\s\S]|[^"\\])*"', '""', source)
    source = re.sub(r"//[^\n]*", "", source)
    return [line.strip() for line in source.splitlines() if line.strip()]
