"""Lets nbgrader 0.9 grade notebooks on the evcxr Rust kernel.

When a cell does not compile, or its code panics under `:preserve_vars_on_panic 0`, evcxr answers
the execute request with `{"status": "error"}` and no `ename`, `evalue` or `traceback` (its error
output on the IOPub channel has them). nbgrader's Execute preprocessor reads `ename` from the reply
and raises KeyError, which aborts the grading of the whole submission. This fills in the missing
fields before nbgrader reads them; the cell is still graded as failed from its error output.
No released nbgrader handles such replies, hence this small patch, loaded by nbgrader_config.py.
"""

from nbgrader.preprocessors.execute import Execute

_nbgrader_on_cell_executed = Execute.on_cell_executed


def _on_cell_executed(self, **kwargs):
    content = kwargs["execute_reply"]["content"]
    if content.get("status") == "error":
        content.setdefault("ename", "Error")
        content.setdefault("evalue", "")
        content.setdefault("traceback", [])
    return _nbgrader_on_cell_executed(self, **kwargs)


if getattr(Execute.on_cell_executed, "__name__", "") != "_on_cell_executed":
    Execute.on_cell_executed = _on_cell_executed
