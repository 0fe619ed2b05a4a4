"""What a reader downloads from a gallery page runs: the ``.py`` script of every page and a notebook, each
in an empty folder outside the checkout with the page's wheel installed by the page's own ``pip
install`` line (tests/sitebuild/reader.py).  The download area offers that wheel, in both languages.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import LANGUAGES, ROOT, source_pagenames
from .reader import SCRIPTS, gallery_page, reader_env, reader_jobs, site_wheel, soup

CJK = re.compile(r"[\u4e00-\u9fff]")


def _page(html_root: Path, language: str, script: Path) -> tuple[Path, object]:
    path = gallery_page(html_root, language, script)
    return path, soup(path)


@pytest.mark.parametrize("language", LANGUAGES)
def test_download_area_offers_the_wheel_and_its_pip_line(html_root: Path, language: str):
    wheel = site_wheel()
    assert wheel is not None and (html_root / language / "packages" / wheel.name).is_file()
    for script in SCRIPTS:
        path, page = _page(html_root, language, script)
        area = page.select_one("div.sphx-glr-footer div.tutorial-package")
        assert area is not None, f"{language}/{path.name}: no package entry in the download area"
        link = area.select_one("a.tutorial-wheel")
        assert link is not None and (path.parent / link["href"]).resolve() == (
            html_root / language / "packages" / wheel.name).resolve(), f"{language}/{path.name}: wheel link"
        assert area.select_one(".tutorial-pip-install").get_text().strip() == \
            f'$ pip install "{wheel.name}[cpu]"'
        if language == "zh_CN":
            assert CJK.search(area.get_text()), f"{path.name}: the package entry is not translated"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_links_to_its_source_file(html_root: Path, language: str):
    for name in source_pagenames():
        path = html_root / language / f"{name}.html"
        link = soup(path).select_one(".page-source a")
        assert link is not None, f"{language}/{name}: no source link"
        shown = link["title"]
        assert (ROOT / shown).is_file(), f"{language}/{name}: {shown} is not a file of the repository"
        copy = (path.parent / link["href"]).resolve()
        assert copy.read_bytes() == (ROOT / shown).read_bytes(), f"{language}/{name}: stale source copy"


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_downloaded_script_runs_in_an_empty_folder(script: Path, html_root: Path):
    assert site_wheel() is not None, "the site build put no wheel into the HTML output"
    job = reader_jobs(html_root)[f"py:{script.stem}"]
    (proc,) = job.results
    assert proc.returncode == 0, f"{script.name}: exit {proc.returncode}\n{proc.stderr[-3000:]}"
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_downloaded_notebook_runs(html_root: Path):
    import nbformat

    job = reader_jobs(html_root)["ipynb"]
    (proc,) = job.results
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert Path(proc.stdout.split()[-1]).is_relative_to(reader_env("cpu").venv)  # the wheel's demos
    executed = nbformat.read(job.folder / job.commands[0][-1], as_version=4)
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert outputs and not any(o.get("output_type") == "error" for o in outputs)
