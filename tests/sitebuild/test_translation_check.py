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


# --- Strict reading (issue 16) -------------------------------------------------------------------------------

BROKEN = {
    # polib silently dropped the last character of the title (and check-po passed)
    "unterminated": ('msgid "Scale and amax."\nmsgstr "缩放因子与 amax。\n', 2, "unterminated string"),
    "garbage": ('msgid "Scale and amax."\nmsgstr "缩放因子与 amax。"\nthis line is garbage\n', 3,
                "not a comment, keyword or string"),  # polib: traceback
    "binary": (b"\x00\x01PK\x03\x04 not a catalog", 1, "binary data"),  # polib: traceback
    "not utf-8": ('msgid "Scale and amax."\nmsgstr "caf\xe9"\n'.encode("latin-1"), 2, "not UTF-8"),
    "no msgstr": ('msgid "Scale and amax."\n\nmsgid "x"\nmsgstr "y"\n', 1, "msgid without msgstr"),
    "bad escape": ('msgid "Scale and amax."\nmsgstr "缩放\\q"\n', 2, "malformed string"),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_broken_catalog_is_one_line_per_error(dirs, name):
    pot, po = dirs
    _write(pot / "docs/page.pot", [("Scale and amax.", "", [])])
    text, line, what = BROKEN[name]
    (po / "docs").mkdir(parents=True)
    target = po / "docs/page.po"
    target.write_bytes(text if isinstance(text, bytes) else text.encode())
    problems = find_translation_problems(pot, po)
    assert len(problems) == 1 and problems[0].startswith(f"{target}:{line}: {what}"), problems


def test_well_formed_catalogs_pass_the_strict_reader():
    """Every catalog of the site, and what polib writes (multi-line strings, flags, obsolete entries)."""
    from translation_check import po_syntax_errors

    root = Path(__file__).resolve().parents[2] / "docs" / "locales"
    catalogs = list(root.rglob("*.po"))
    assert catalogs and all(po_syntax_errors(p) == [] for p in catalogs)


def test_build_site_refuses_bad_environment_in_one_line(tmp_path):
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    a_file = tmp_path / "build"
    a_file.write_text("")
    for env, expected in (({"TUTORIAL_BUILD_DIR": str(a_file)}, "is a file, not a folder"),
                          ({"TUTORIAL_GALLERY_ONLY": "plot_("}, "is not a regular expression")):
        proc = subprocess.run([sys.executable, "tools/build_site.py", "check-po"], cwd=repo, capture_output=True,
                              text=True, env={**os.environ, **env}, timeout=120)
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert proc.returncode == 1 and len(lines) == 1 and expected in lines[0], proc.stderr
    # sphinx-build run directly reads conf.py: a configuration error, not a traceback from sphinx-gallery
    proc = subprocess.run([sys.executable, "-c", "import runpy; runpy.run_path('conf.py')"], cwd=repo,
                          capture_output=True, text=True, env={**os.environ, "TUTORIAL_GALLERY_ONLY": "["}, timeout=120)
    assert proc.returncode != 0 and "ConfigError: TUTORIAL_GALLERY_ONLY='[' is not a regular expression" in proc.stderr


@pytest.mark.parametrize(
    "msgid, msgstr, differs",
    [
        # The plugin page's breakage: a stray backquote closes nothing, the rest of the sentence renders
        # as code, and the build's markup check (which skips literal nodes) does not see it.
        ("Call ``enqueue()`` once per batch.", "每个批次调用一次 ``enqueue()`` `。", "single backquotes"),
        ("Call ``enqueue()`` once per batch.", "每个批次调用一次 ``enqueue()``\\ （一次）。", None),
        ("Call ``enqueue()`` once per batch.", "每个批次调用一次 ``enqueue()。", "double backquotes"),
        ("See :doc:`the INT8 page <plot_int8>`.", "见 :ref:`INT8 页 <plot_int8>`。", "roles"),
        ("Run `--only TEXT` here.", "在这里运行 `--only TEXT。", "single backquotes"),
        ("Run `--only TEXT` here.", "在这里运行 `--only TEXT`。", None),
    ],
)
def test_inline_markup_must_match_the_english(dirs, msgid, msgstr, differs):
    pot, po = dirs
    _write(pot / "docs/page.pot", [(msgid, "", [])])
    _write(po / "docs/page.po", [(msgid, msgstr, [])])
    problems = find_translation_problems(pot, po)
    if differs is None:
        assert problems == []
    else:
        assert len(problems) == 1 and "inline markup differs" in problems[0] and differs in problems[0], problems
