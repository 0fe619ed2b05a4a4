"""The rendered pages of both languages show what the code prints and what a reader would type: no
absolute paths of the build machine, no progress-bar debris, no known library noise, and no build
scaffolding in the code of the walkthrough.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from demos import data, locations, quiet

from .conftest import BUILD, LANGUAGES, ROOT, source_pagenames

TQDM = re.compile(r"\d{1,3}%\|[^|\n]{0,40}\|\s*\d+/\d+")
# Every known noise line (demos/quiet.py filters them in one place), and the other lines it stands for.
NOISE = [prefix for prefixes in quiet.LOG_NOISE.values() for prefix in prefixes] + [
    "Specified provider 'CUDAExecutionProvider'", "warnings.warn(", "UserWarning:", "TracerWarning",
]
SCAFFOLDING = ("fcntl.", "contextlib.chdir", "shutil.rmtree", "os.chdir")


def _machine_paths() -> list[str]:
    paths = {str(ROOT), str(BUILD), str(data.SAMPLES), str(locations.cache_root()), str(Path.home()) + "/",
             "/site-packages/", "/dist-packages/"}
    shared = ROOT.parent / "shared"
    if shared.exists():
        paths.add(str(shared.resolve()))
    return sorted(p for p in paths if len(p) > 3)


def _text(path: Path) -> str:
    """The page as the reader's browser shows it: tags removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("language", LANGUAGES)
def test_pages_show_no_machine_paths_progress_bars_or_noise(html_root: Path, language: str):
    problems = []
    paths = _machine_paths()
    for page in source_pagenames():
        text = _text(html_root / language / f"{page}.html")
        for line in text.splitlines():
            found = [p for p in paths if p in line]
            found += [n for n in NOISE if n in line]
            if TQDM.search(line):
                found.append("progress bar")
            if found:
                problems.append(f"{language}/{page}: {found}: {line.strip()[:160]}")
    assert not problems, "\n".join(problems[:40])


def test_walkthrough_code_has_no_build_scaffolding(html_root: Path):
    from bs4 import BeautifulSoup

    for language in LANGUAGES:
        page = html_root / language / "docs/auto_gallery/resnet50/plot_resnet50_walkthrough.html"
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        code = "\n".join(div.get_text() for div in soup.select("div.highlight-Python div.highlight"))
        assert "cli(" in code  # the page's commands are there ...
        assert not [s for s in SCAFFOLDING if s in code], f"{language}: scaffolding in the page's code"


def test_the_scan_catches_what_it_looks_for():
    """The patterns match real debris and noise (so that the test above can fail)."""
    assert TQDM.search("calibration:  16%|█▌        | 8/50 [00:00<00:02, 16.38img/s]")
    line = "2026-12-05 - [modelopt][onnx] - ERROR - Failed to import TensorRT >= 10.0"
    assert any(n in line for n in NOISE)
    assert any(p in f"weights at {Path.home()}/.cache/torch/x.pth" for p in _machine_paths())
    assert any(p in f"{data.SAMPLES}/labels.csv" for p in _machine_paths())
