"""The catalog check catches every way a Chinese page can fall behind the English one."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest

from translation_check import fill_language_neutral, find_translation_problems, is_language_neutral


def _write(path: Path, entries: list[tuple[str, str, list[str]]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    catalog = polib.POFile()
    for msgid, msgstr, flags in entries:
        catalog.append(polib.POEntry(msgid=msgid, msgstr=msgstr, flags=flags))
    catalog.save(str(path))


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "pot", tmp_path / "po"


def test_complete_catalog_passes(dirs):
    pot, po = dirs
    _write(pot / "docs/page.pot", [("Scale and amax.", "", [])])
    _write(po / "docs/page.po", [("Scale and amax.", "缩放因子与 amax。", [])])
    assert find_translation_problems(pot, po) == []


@pytest.mark.parametrize(
    "po_entries, reason",
    [
        ([("Scale and amax.", "", [])], "untranslated"),
        ([("Scale and amax.", "缩放因子与 amax。", ["fuzzy"])], "fuzzy"),
        ([("Another sentence.", "另一句话。", [])], "untranslated"),
        ([("Scale and amax.", "Scale and amax.", [])], None),  # short: may legitimately match
    ],
)
def test_problems_are_reported(dirs, po_entries, reason):
    pot, po = dirs
    _write(pot / "docs/page.pot", [("Scale and amax.", "", [])])
    _write(po / "docs/page.po", po_entries)
    problems = find_translation_problems(pot, po)
    if reason is None:
        assert problems == []
    else:
        assert len(problems) == 1 and f": {reason}:" in problems[0]


def test_missing_catalog_copied_prose_and_list_markers(dirs):
    pot, po = dirs
    prose = "The scale is the step between neighbouring values."
    _write(pot / "docs/a.pot", [("x", "", [])])
    _write(pot / "docs/b.pot", [(prose, "", []), ("1. Terms", "", [])])
    _write(po / "docs/b.po", [(prose, prose, []), ("1. Terms", "1. 术语", [])])
    problems = find_translation_problems(pot, po)
    assert any("docs/a: missing catalog" in p for p in problems)
    assert any("copied English" in p for p in problems)
    assert any("list marker" in p for p in problems)
    assert len(problems) == 3


@pytest.mark.parametrize(
    "msgid, neutral",
    [
        ('<a name="2"></a>', True),
        ("量化", True),
        ("TensorRT-RTX", True),
        ("TensorRT 11", True),
        (":doc:`/docs/auto_gallery/plot_x`", True),
        ("quantization", False),
        ("CPU only", False),
        ("Scale and amax.", False),
    ],
)
def test_language_neutral_messages(msgid, neutral):
    assert is_language_neutral(msgid) is neutral


def test_fill_language_neutral_copies_only_neutral_messages(tmp_path: Path):
    path = tmp_path / "docs/page.po"
    _write(path, [('<a name="1"></a>', "", []), ("quantization", "", [])])
    assert fill_language_neutral(tmp_path) == 1
    entries = {e.msgid: e.msgstr for e in polib.pofile(str(path))}
    assert entries == {'<a name="1"></a>': '<a name="1"></a>', "quantization": ""}
