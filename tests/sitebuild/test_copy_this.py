"""Every "Copy this" section of the RENDERED English site runs as it is, in an empty folder outside the
checkout, with the tutorial's wheel installed and no ``PYTHONPATH`` (tests/sitebuild/reader.py).

Python blocks run as one script; a console block whose first line is ``# test: run`` runs command by
command.  Steps that need TensorRT must say what they skipped when it is absent.
"""

from __future__ import annotations

import importlib.util
import shlex
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from .conftest import source_pagenames
from .reader import ROOT, reader_env

MAX_LINE = 88  # what fits the content column at 1400 px without wrapping


def copy_this_sections(html_root: Path) -> dict[str, BeautifulSoup]:
    """pagename -> the ``<section id="copy-this">`` of every English page that has one."""
    out = {}
    for page in source_pagenames():
        soup = BeautifulSoup((html_root / "en" / f"{page}.html").read_text(encoding="utf-8"), "html.parser")
        section = soup.find("section", id="copy-this")
        if section is not None:
            out[page] = section
    return out


def code_blocks(section) -> tuple[list[str], list[list[str]]]:
    """(Python code blocks, runnable console blocks as lists of commands) of a section, outputs left out."""
    python, console = [], []
    for div in section.find_all("div", class_="highlight"):
        wrapper = div.parent
        classes = " ".join(wrapper.get("class", []))
        if "sphx-glr-script-out" in classes:
            continue  # what the code printed when the page was built
        text = div.get_text()
        if "highlight-python" in classes.lower():
            python.append(text)
        elif "highlight-console" in classes and text.splitlines()[0].strip() == "# test: run":
            console.append([ln[2:] for ln in text.splitlines() if ln.startswith("$ ")])
    return python, console


@pytest.fixture(scope="module")
def sections(html_root: Path):
    found = copy_this_sections(html_root)
    assert len(found) >= 5, f"expected the five gallery pages with a 'Copy this' section, found {sorted(found)}"
    return found


@pytest.fixture(scope="module")
def reader():
    return reader_env("cpu")


def _params():
    gallery = ROOT / "gallery"
    return sorted(("docs/auto_gallery" / p.relative_to(gallery).with_suffix("")).as_posix()
                  for p in gallery.rglob("plot_*.py") if "\n# Copy this\n" in p.read_text(encoding="utf-8"))


def test_copy_this_lines_fit_the_column(sections):
    long = {page: [ln for block in code_blocks(sec)[0] for ln in block.splitlines() if len(ln) > MAX_LINE]
            for page, sec in sections.items()}
    assert not any(long.values()), f"lines longer than {MAX_LINE} characters: {long}"


@pytest.mark.slow
@pytest.mark.parametrize("page", _params())
def test_copy_this_runs_in_an_empty_folder(page, sections, reader, tmp_path):
    assert page in sections, f"{page}: no 'Copy this' section in the rendered page"
    python, console = code_blocks(sections[page])
    assert python or console, f"{page}: 'Copy this' shows nothing runnable"
    assert ROOT not in tmp_path.parents
    env = reader.reader_data()
    if python:
        script = tmp_path / "copy_this.py"
        script.write_text("\n\n".join(python), encoding="utf-8")
        proc = reader.run([reader.python, script.name], cwd=tmp_path, **env)
        assert proc.returncode == 0, f"{page}: exit {proc.returncode}\n{proc.stderr[-3000:]}"
        assert proc.stdout.strip(), f"{page}: the block printed nothing"
        if "import tensorrt" in script.read_text() and importlib.util.find_spec("tensorrt") is None:
            assert "skipped" in proc.stdout, f"{page}: TensorRT is absent but nothing says what was skipped"
    for commands in console:
        for command in commands:
            argv = shlex.split(command)
            assert argv[0] == "python", command
            proc = reader.run([reader.python, *argv[1:]], cwd=tmp_path, **env)
            assert proc.returncode == 0, f"{page}: `{command}` exited {proc.returncode}\n{proc.stderr[-3000:]}"
        workdir = tmp_path / shlex.split(commands[0])[shlex.split(commands[0]).index("--workdir") + 1]
        assert (workdir / "report.json").is_file(), f"{page}: the commands wrote no report"
