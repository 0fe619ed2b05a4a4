"""No gallery cell ends with an expression whose value sphinx-gallery would print (review item A6).

sphinx-gallery shows the repr of a cell's last expression: a cell that ends with ``fig.suptitle(...)`` puts
``Text(0.5, 0.98, '...')`` under the figure, and on the Chinese build the text had already been translated in
place, so the English page showed Chinese.  A cell may end with a call only to something that returns None.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sphinx_gallery.py_source_parser import split_code_and_text_blocks

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted((ROOT / "gallery").rglob("plot_*.py"))
# Callables that return None: the builtin print, matplotlib's layout and show, shutil.rmtree, and the pages'
# own command runners (walkthrough.Run.cli and the debugging page's polygraphy(), both "-> None" by design).
RETURNS_NONE = {"print", "tight_layout", "show", "rmtree", "cli", "polygraphy"}


def last_expressions(script: Path):
    for block in split_code_and_text_blocks(str(script))[1]:
        if block[0] != "code":
            continue
        body = ast.parse(block[1]).body
        if body and isinstance(body[-1], ast.Expr):
            yield block[2] + body[-1].lineno - 1, body[-1].value


def _callee(node) -> str | None:
    if isinstance(node, ast.Call):
        func = node.func
        return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    return None


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_no_cell_ends_with_a_printed_value(script):
    shown = [f"{script.relative_to(ROOT)}:{line}: {ast.unparse(value)[:80]}"
             for line, value in last_expressions(script) if _callee(value) not in RETURNS_NONE]
    assert not shown, "cells ending with an expression whose repr sphinx-gallery prints:\n" + "\n".join(shown)


def test_the_check_sees_a_suptitle_at_the_end_of_a_cell(tmp_path):
    script = tmp_path / "plot_x.py"
    script.write_text('"""\nT\n=\n"""\n\nimport matplotlib\nfig = None\nfig.suptitle("a")\n\n# %%\n# text\n\n'
                      'print(1)\n', encoding="utf-8")
    assert [(_callee(v)) for _, v in last_expressions(script)] == ["suptitle", "print"]
