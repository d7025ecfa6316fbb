"""The student's stubs in the lesson's language: `// YOUR CODE HERE` in an English lesson,
`// SEU CÓDIGO AQUI` in a Portuguese one (and the same for a written answer).

nbgrader picks the stub of a code cell by the kernel's language only (`ClearSolutions.code_stub`,
keyed by `rust`), and the lessons of both languages run on the same Rust kernel. The assignment
id is the lessons' language (`en`, `pt-BR`), so this ClearSolutions picks the stubs from it.
Loaded by nbgrader_config.py, which puts it in place of nbgrader's own ClearSolutions.
"""

from nbgrader.preprocessors import ClearSolutions

# Each language's stubs: the code stub keeps a cell compiling (a Rust comment), see
# nbgrader_config.py; the text stub is what a written answer starts as.
STUBS = {
    "en": {"code": "// YOUR CODE HERE", "text": "YOUR ANSWER HERE"},
    "pt-BR": {"code": "// SEU CÓDIGO AQUI", "text": "SUA RESPOSTA AQUI"},
}


class ClearSolutionsInTheLessonsLanguage(ClearSolutions):
    """nbgrader's ClearSolutions, with the stubs of the assignment's language."""

    def preprocess(self, nb, resources):
        assignment = resources.get("nbgrader", {}).get("assignment", "en")
        if assignment not in STUBS:
            raise ValueError(f"assignment {assignment!r} is not a language of the lab: expected one of {sorted(STUBS)}")
        self.code_stub = {"rust": STUBS[assignment]["code"]}
        self.text_stub = STUBS[assignment]["text"]
        return super().preprocess(nb, resources)
