"""What a reader downloads from a gallery page runs: the ``.py`` script of every page and a notebook, each
in an empty folder outside the checkout with the page's wheel installed by the page's own ``pip
install`` line (tests/sitebuild/reader.py).  The download area offers that wheel, in both languages.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from .conftest import LANGUAGES, ROOT
from .reader import reader_env, site_wheel

CJK = re.compile(r"[\u4e00-\u9fff]")
GALLERY = ROOT / "gallery"
SCRIPTS = sorted(p for p in GALLERY.rglob("plot_*.py") if (p.parent / "GALLERY_HEADER.rst").exists())
# The notebook that proves the .ipynb path: a short page (the scripts above cover every page's code).
NOTEBOOK = "concepts/plot_fake_quant_ste"


def _page(html_root: Path, language: str, script: Path) -> tuple[Path, BeautifulSoup]:
    path = html_root / language / "docs/auto_gallery" / script.relative_to(GALLERY).with_suffix(".html")
    return path, BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _download(html_root: Path, script: Path, suffix: str) -> Path:
    """The file the English page's download link of type ``suffix`` points to."""
    path, soup = _page(html_root, "en", script)
    hrefs = [a["href"] for a in soup.select("a.download") if a["href"].endswith(suffix)]
    assert len(hrefs) == 1, f"{path.name}: expected one {suffix} download, found {hrefs}"
    target = (path.parent / hrefs[0]).resolve()
    assert target.is_file(), f"{path.name}: broken download {hrefs[0]}"
    return target


@pytest.fixture(scope="module")
def reader(html_root: Path):
    assert site_wheel() is not None, "the site build put no wheel into the HTML output"
    return reader_env("cpu")


@pytest.mark.parametrize("language", LANGUAGES)
def test_download_area_offers_the_wheel_and_its_pip_line(html_root: Path, language: str):
    wheel = site_wheel()
    assert wheel is not None and (html_root / language / "packages" / wheel.name).is_file()
    for script in SCRIPTS:
        path, soup = _page(html_root, language, script)
        area = soup.select_one("div.sphx-glr-footer div.tutorial-package")
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
    from .conftest import source_pagenames

    for page in source_pagenames():
        path = html_root / language / f"{page}.html"
        link = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").select_one(".page-source a")
        assert link is not None, f"{language}/{page}: no source link"
        shown = link["title"]
        assert (ROOT / shown).is_file(), f"{language}/{page}: {shown} is not a file of the repository"
        copy = (path.parent / link["href"]).resolve()
        assert copy.read_bytes() == (ROOT / shown).read_bytes(), f"{language}/{page}: stale source copy"


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_downloaded_script_runs_in_an_empty_folder(script: Path, html_root: Path, reader, tmp_path: Path):
    downloaded = shutil.copy(_download(html_root, script, ".py"), tmp_path)
    proc = reader.run([reader.python, Path(downloaded).name], cwd=tmp_path, timeout=900,
                      **reader.reader_data())
    assert proc.returncode == 0, f"{script.name}: exit {proc.returncode}\n{proc.stderr[-3000:]}"
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_downloaded_notebook_runs(html_root: Path, reader, tmp_path: Path):
    notebook = shutil.copy(_download(html_root, GALLERY / f"{NOTEBOOK}.py", ".ipynb"), tmp_path)
    # nbclient runs in the reader's venv, so the kernel (ipykernel, sys.executable) is that venv's python.
    code = ("import nbclient, nbformat, sys; nb = nbformat.read(sys.argv[1], as_version=4); "
            "nbclient.NotebookClient(nb, timeout=600, kernel_name='python3', "
            "resources={'metadata': {'path': '.'}}).execute(); "
            "nbformat.write(nb, sys.argv[1]); "
            "import demos; print(demos.__file__)")
    proc = reader.run([reader.python, "-c", code, Path(notebook).name], cwd=tmp_path, timeout=900,
                      **reader.reader_data())
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert Path(proc.stdout.split()[-1]).is_relative_to(reader.venv)
    import nbformat

    executed = nbformat.read(tmp_path / Path(notebook).name, as_version=4)
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert outputs and not any(o.get("output_type") == "error" for o in outputs)
