"""nbgrader's configuration for the lab: `notebooks/` is the course directory.

    solved/<language>/NN-*.ipynb    the lessons with their solutions (nbgrader's "source")
    student/<language>/NN-*.ipynb   the versions students fill in, generated from solved/
                                    ("release"): ./lab nbgrader generate_assignment en --force
    submitted/<student>/<language>/ where an instructor puts the notebooks students hand in;
                                    ./lab nbgrader autograde en grades them into autograded/

The assignment id is the language of the lessons (`en`). Every command runs through
`./lab nbgrader ...`, which starts nbgrader here with the lab's Python environment.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nbgrader.converters import GenerateAssignment
from nbgrader.preprocessors import ClearSolutions

import nbgrader_evcxr  # noqa: F401  (lets nbgrader read the Rust kernel's error replies)
from nbgrader_stubs import ClearSolutionsInTheLessonsLanguage

c = get_config()  # noqa: F821  (nbgrader defines it)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "rust-tracing-lab"
c.CourseDirectory.source_directory = "solved"
c.CourseDirectory.release_directory = "student"

# A student's part of a cell is marked with Rust comments. The stub keeps the cell compiling, so
# that every other cell of the student version runs; the exercise's check says what is missing.
# (nbgrader's stubs for other languages raise an error instead; a Rust panic would make evcxr
# drop every variable of the notebook, see tracelab's check module.) The stub is written in the
# lesson's language (nbgrader_stubs.py). The delimiters include the comment marker, so that a
# string that merely mentions them is left alone.
c.GenerateAssignment.preprocessors = [
    ClearSolutionsInTheLessonsLanguage if step is ClearSolutions else step
    for step in GenerateAssignment.class_traits()["preprocessors"].make_dynamic_default()
]
c.ClearSolutions.begin_solution_delimeter = "// BEGIN SOLUTION"
c.ClearSolutions.end_solution_delimeter = "// END SOLUTION"
c.ClearHiddenTests.begin_test_delimeter = "// BEGIN HIDDEN TESTS"
c.ClearHiddenTests.end_test_delimeter = "// END HIDDEN TESTS"
# nbgrader's generated tests (AUTOTEST) know only Python and R.
c.InstantiateTests.enabled = False

# Grading runs every cell on the Rust kernel. A notebook's first cell compiles its crates: seconds
# with the lab's warm cache, minutes without it.
c.Execute.timeout = 900
c.Execute.startup_timeout = 120
# nbgrader scores a test cell 0 when it writes to standard error. The Rust kernel forwards
# standard error on a thread of its own, so a line a student's code writes can land in the next
# cell; only a panic's message says that the cell itself failed. (The lab's checks report their
# score in the cell's value, see tracelab's check module.)
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"^(?![\s\S]*panicked at)"
# Keep the whole output of graded notebooks: a web app's spans printed to STDOUT are long.
c.LimitOutput.max_lines = -1
c.LimitOutput.max_traceback = -1
