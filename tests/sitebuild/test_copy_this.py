"""Every "Copy this" section of the RENDERED English site runs as it is, in an empty folder outside the
checkout, with the tutorial's wheel installed and no ``PYTHONPATH`` (tests/sitebuild/reader.py).

Python blocks run as one script; a console block whose first line is ``# test: run`` runs command by
command.  Steps that need TensorRT must say what they skipped when it is absent.
"""

from __future__ import annotations

import importlib.util
import json
import shlex
from pathlib import Path

import pytest

from .reader import ROOT, SCRIPTS, copy_this_blocks, copy_this_sections, reader_jobs

MAX_LINE = 88  # what fits the content column at 1400 px without wrapping
WITH_COPY_THIS = [s.stem for s in SCRIPTS if "\n# Copy this\n" in s.read_text(encoding="utf-8")]


@pytest.fixture(scope="module")
def sections(html_root: Path):
    found = copy_this_sections(html_root)
    assert sorted(found) == sorted(WITH_COPY_THIS), "a 'Copy this' section is missing from a rendered page"
    assert len(found) >= 5
    return found


def test_copy_this_lines_fit_the_column(sections):
    long = {stem: [ln for block in copy_this_blocks(sec)[0] for ln in block.splitlines() if len(ln) > MAX_LINE]
            for stem, sec in sections.items()}
    assert not any(long.values()), f"lines longer than {MAX_LINE} characters: {long}"


def test_every_section_shows_something_runnable(sections):
    for stem, section in sections.items():
        python, console = copy_this_blocks(section)
        assert python or console, f"{stem}: 'Copy this' shows nothing runnable"
        for block in console:
            assert all(shlex.split(c)[0] == "python" for c in block), block


@pytest.mark.slow
@pytest.mark.parametrize("stem", WITH_COPY_THIS)
def test_copy_this_runs_in_an_empty_folder(stem, sections, html_root):
    job = reader_jobs(html_root)[f"copy-this:{stem}"]
    assert ROOT not in job.folder.parents
    for argv, proc in zip(job.commands, job.results):
        assert proc.returncode == 0, f"{stem}: `{' '.join(argv)}` exited {proc.returncode}\n{proc.stderr[-3000:]}"
    assert len(job.results) == len(job.commands)
    script = job.folder / "copy_this.py"
    if script.exists():
        out = job.results[0].stdout
        assert out.strip(), f"{stem}: the block printed nothing"
        if "import tensorrt" in script.read_text() and importlib.util.find_spec("tensorrt") is None:
            assert "skipped" in out, f"{stem}: TensorRT is absent but nothing says what was skipped"
    for argv in job.commands:
        if "--workdir" in argv:
            workdir = job.folder / argv[argv.index("--workdir") + 1]
            assert (workdir / "report.json").is_file(), f"{stem}: the commands wrote no report"
            _assert_walkthrough_report(workdir)


def _assert_walkthrough_report(workdir: Path) -> None:
    """The walkthrough's commands, typed in an empty folder, measure real accuracy on the sample images and
    build a TensorRT-family plan for each variant."""
    rep = json.loads((workdir / "report.json").read_text())
    assert rep["model"] == "efficientnet_lite0" and rep["real_weights"]
    rows = {r["variant"]: r for r in rep["rows"]}
    assert set(rows) == {"fp32", "fp16", "int8_max", "int8_qat"}
    for name, row in rows.items():
        assert row["images"] == 48 and 0.5 < row["top1"] <= 1.0, (name, row)
        assert row["engines"] and row["engines"][0]["plan_mb"] > 1, name
    assert rows["fp32"]["cpu"]["8"]["images_per_s"] > 0 and rows["int8_max"]["cpu"]["8"]["images_per_s"] > 0
    assert (workdir / "report.png").stat().st_size > 10_000
