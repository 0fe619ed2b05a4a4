"""Build the site in both languages, and keep the Chinese catalogs complete.

Usage (from the repository root, inside .venv)::

    python tools/build_site.py all          # gettext check + English + Chinese + root page
    python tools/build_site.py html LANG    # one language
    python tools/build_site.py update-po    # refresh catalogs after editing English text
    python tools/build_site.py check-po     # fail on a missing, fuzzy or stale translation
    python tools/build_site.py wheel        # only the project's wheel, into build/dist

Both languages read the same sources with the same ``conf.py``; the Chinese build only
adds ``-D language=zh_CN``.  The gallery runs during the first build that needs it and
the others reuse its output, so every script executes once per full build.

Before the HTML builds, the project's own wheel (``demos`` and ``paddle_style_guide``, see
``pyproject.toml``) is built into ``build/dist``; ``docs/_ext/package_download.py`` puts it into
the HTML output and offers it, with its ``pip install`` line, on every gallery page.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# TUTORIAL_BUILD_DIR lets several people build from one checkout without sharing output.
BUILD = Path(os.environ.get("TUTORIAL_BUILD_DIR", ROOT / "build")).resolve()
LANGUAGES = ("en", "zh_CN")
LOCALE_DIR = ROOT / "docs" / "locales"
POT_DIR = BUILD / "gettext"
LOG_DIR = BUILD / "logs"
DIST_DIR = BUILD / "dist"
# What the wheel is built from (a clean copy: no __pycache__, no egg-info or build/ in the checkout).
PACKAGE_SOURCES = ("pyproject.toml", "README.md", "demos", "paddle_style_guide")


def sphinx_build(builder: str, outdir: Path, language: str, *extra: str) -> None:
    """Run sphinx-build with warnings as errors; its warnings also go to build/logs."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    warnings_file = LOG_DIR / f"{builder}-{language}.warnings"
    cmd = [
        sys.executable, "-m", "sphinx", "-b", builder,
        "-W", "--keep-going", "-n", "-q",
        "-w", str(warnings_file),
        "-d", str(BUILD / "doctrees" / f"{builder}-{language}"),
        "-D", f"language={language}",
        *extra, str(ROOT), str(outdir),
    ]
    print(f"[build_site] {builder} ({language}) -> {outdir}", flush=True)
    env = {**os.environ, "TUTORIAL_BUILD_STEP": f"{builder}-{language}"}
    result = subprocess.run(cmd, cwd=ROOT, env=env)
    if result.returncode != 0:
        sys.exit(f"[build_site] sphinx-build {builder} ({language}) failed; "
                 f"warnings are in {warnings_file}")


def build_gettext() -> None:
    """Extract translatable messages into build/gettext/*.pot (pages, then figure text)."""
    if POT_DIR.exists():
        shutil.rmtree(POT_DIR)
    sphinx_build("gettext", POT_DIR, "en")
    write_figures_pot()


def write_figures_pot() -> None:
    """build/gettext/figures.pot: every line the gallery figures draw (docs/_ext/figure_i18n.py
    records them when a script runs; the gettext build above ran the scripts that changed)."""
    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    from figure_catalog import FigureCatalog, write_pot
    from figure_i18n import CATALOG, LANGUAGE

    lines_by_image = {}
    for record_path in sorted((ROOT / "docs" / "auto_gallery").glob(f"**/images/{LANGUAGE}/*.json")):
        record = json.loads(record_path.read_text(encoding="utf-8"))
        lines_by_image[record["image"]] = list(record["lines"])
    count = write_pot(lines_by_image, FigureCatalog.load(CATALOG), POT_DIR / "figures.pot",
                      keep_from=CATALOG)
    print(f"[build_site] {count} figure message(s) from {len(lines_by_image)} figure(s) -> {POT_DIR / 'figures.pot'}")


def check_catalog_syntax() -> None:
    """Stop, in one line ``file:line: what``, at the first catalog that is not well-formed PO."""
    from translation_check import po_syntax_errors

    for po_path in sorted((LOCALE_DIR / "zh_CN" / "LC_MESSAGES").rglob("*.po")):
        errors = po_syntax_errors(po_path)
        if errors:
            sys.exit(f"[build_site] {errors[0]}")


def check_environment() -> None:
    """The variables that steer the build, checked before any work: one line each when they cannot work."""
    import re

    if BUILD.exists() and not BUILD.is_dir():
        sys.exit(f"[build_site] TUTORIAL_BUILD_DIR={BUILD} is a file, not a folder; point it at a folder")
    only = os.environ.get("TUTORIAL_GALLERY_ONLY")
    if only:
        try:
            re.compile(only)
        except re.error as exc:
            sys.exit(f"[build_site] TUTORIAL_GALLERY_ONLY={only!r} is not a regular expression ({exc}); "
                     "give a pattern such as 'plot_int8'")


def update_po() -> None:
    """Merge the current messages into the zh_CN catalogs (new ones come out untranslated)."""
    check_catalog_syntax()  # sphinx-intl would fail on a broken catalog with a traceback
    build_gettext()
    subprocess.run(
        [sys.executable, "-m", "sphinx_intl", "update", "-p", str(POT_DIR),
         "-d", str(LOCALE_DIR), "-l", "zh_CN", "-w", "0"],
        cwd=ROOT, check=True,
    )
    remove_obsolete_catalogs()
    from translation_check import fill_language_neutral

    filled = fill_language_neutral(LOCALE_DIR / "zh_CN" / "LC_MESSAGES")
    print(f"[build_site] {filled} language-neutral message(s) copied (anchors, names, Chinese text)")
    print("[build_site] catalogs updated; translate every empty or fuzzy msgstr, then run check-po")


def remove_obsolete_catalogs() -> None:
    """Delete catalogs whose page no longer exists and obsolete (#~) entries in the rest."""
    import polib

    po_root = LOCALE_DIR / "zh_CN" / "LC_MESSAGES"
    for po_path in po_root.rglob("*.po"):
        pot_path = POT_DIR / po_path.relative_to(po_root).with_suffix(".pot")
        if not pot_path.exists():
            print(f"[build_site] removing catalog of a deleted page: {po_path}")
            po_path.unlink()
            continue
        catalog = polib.pofile(str(po_path), wrapwidth=0)
        obsolete = catalog.obsolete_entries()
        if obsolete:
            for entry in obsolete:
                catalog.remove(entry)
            catalog.save(str(po_path))


def check_po() -> list[str]:
    """Every message of every page needs a current, non-fuzzy Chinese translation."""
    from translation_check import find_translation_problems

    build_gettext()
    problems = find_translation_problems(POT_DIR, LOCALE_DIR / "zh_CN" / "LC_MESSAGES")
    for problem in problems:
        print(problem)
    if problems:
        sys.exit(f"[build_site] {len(problems)} translation problem(s); run "
                 "`make po`, translate the listed messages, and build again")
    print("[build_site] zh_CN translations complete")
    return problems


def build_wheel(dest: Path = DIST_DIR) -> Path:
    """Build the project's wheel from a clean copy of its sources into ``dest``; return its path.

    Uses the build backend installed in this environment (``make`` installs the pinned setuptools),
    so the step needs no download.  Older wheels in ``dest`` are removed.
    """
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wheel-src-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in PACKAGE_SOURCES:
            path = ROOT / name
            if path.is_dir():
                shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(path, src / name)
        out = Path(tmp) / "out"
        result = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
             "--disable-pip-version-check", "--wheel-dir", str(out), str(src)],
            capture_output=True, text=True)
        wheels = sorted(out.glob("*.whl"))
        if result.returncode != 0 or len(wheels) != 1:
            sys.exit(f"[build_site] building the wheel failed:\n{result.stderr[-3000:]}")
        for old in dest.glob("*.whl"):
            old.unlink()
        target = dest / wheels[0].name
        shutil.copy2(wheels[0], target)
    print(f"[build_site] wheel -> {target}", flush=True)
    return target


def build_html(language: str) -> None:
    sphinx_build("html", BUILD / "html" / language, language)


ROOT_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Low-Precision Inference with TensorRT · TensorRT 低精度推理</title>
<script>
  // Send the reader to the language they chose last time, else to their browser's language.
  (function () {
    var saved = null;
    try { saved = localStorage.getItem("tutorial-language"); } catch (e) {}
    var lang = saved || ((navigator.language || "").toLowerCase().indexOf("zh") === 0 ? "zh_CN" : "en");
    if (location.search.indexOf("stay") < 0) { location.replace(lang + "/docs/index.html"); }
  })();
  function remember(lang) { try { localStorage.setItem("tutorial-language", lang); } catch (e) {} }
</script>
</head>
<body>
<h1>Low-Precision Inference with TensorRT · TensorRT 低精度推理</h1>
<ul>
  <li><a href="en/docs/index.html" hreflang="en" onclick="remember('en')">English</a></li>
  <li><a href="zh_CN/docs/index.html" hreflang="zh-CN" lang="zh-CN" onclick="remember('zh_CN')">简体中文</a></li>
</ul>
</body>
</html>
"""

LANGUAGE_ROOT = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta http-equiv="refresh" content="0; url=docs/index.html">
<title>Redirect</title></head>
<body><a href="docs/index.html">docs/index.html</a></body></html>
"""


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False) as tmp:
        tmp.write(text)
    os.replace(tmp.name, path)


def write_root_pages() -> None:
    """build/html/index.html picks a language; each language root points to its home page."""
    write_atomically(BUILD / "html" / "index.html", ROOT_PAGE)
    for language in LANGUAGES:
        write_atomically(BUILD / "html" / language / "index.html", LANGUAGE_ROOT)


def main(argv: list[str] | None = None) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("all", help="check catalogs, then build both languages and the root page")
    html = sub.add_parser("html", help="build one language")
    html.add_argument("language", choices=LANGUAGES)
    sub.add_parser("update-po", help="refresh the zh_CN catalogs from the English sources")
    sub.add_parser("check-po", help="fail on missing, fuzzy or stale translations")
    sub.add_parser("wheel", help="build the project's wheel into build/dist")
    args = parser.parse_args(argv)
    check_environment()

    if args.command == "update-po":
        update_po()
    elif args.command == "check-po":
        check_po()
    elif args.command == "wheel":
        build_wheel()
    elif args.command == "html":
        build_wheel()
        build_html(args.language)
        write_root_pages()
    else:
        # The gettext pass runs the gallery (once); both HTML builds then reuse its output.
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        (LOG_DIR / "gallery-executions.log").write_text("")
        check_po()
        build_wheel()
        for language in LANGUAGES:
            build_html(language)
        write_root_pages()


if __name__ == "__main__":
    main()
