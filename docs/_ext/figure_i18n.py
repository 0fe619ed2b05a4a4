"""Gallery figures in the page's language, drawn once per script run.

sphinx-gallery executes a script once (in the first build) and the Chinese build reuses its
output.  This image scraper saves every matplotlib figure as sphinx-gallery does, then
translates its text in place (titles, axis labels, legends, annotations, tick labels with
words) through ``docs/locales/zh_CN/LC_MESSAGES/figures.po`` and saves the Chinese version
beside it, ``images/zh_CN/<name>.png``.  Sphinx's ``figure_language_filename`` then shows
that file on the Chinese pages; no script computes twice.

Next to each Chinese PNG a JSON file records the lines drawn, the alt text in both
languages and a fingerprint of the translations used.  From those files:

* ``tools/build_site.py`` writes ``figures.pot``, so ``make po`` / ``make check-po`` treat
  figure text like page text;
* a build re-runs a script whose figure translations changed since it last ran (its
  ``.md5`` is removed before sphinx-gallery looks at it), so a fixed translation shows up;
* the HTML builds set each figure's alt text in the page's language, and make the Chinese
  thumbnails of the gallery index.
"""

from __future__ import annotations

import functools
import json
import os
import re
import textwrap
import warnings
from pathlib import Path, PurePosixPath

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

from figure_catalog import FigureCatalog, needs_translation, tidy_chinese_spacing

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "docs" / "locales" / "zh_CN" / "LC_MESSAGES" / "figures.po"
LANGUAGE = "zh_CN"
# Sphinx looks for "<folder>/zh_CN/<name>.png" before "<folder>/<name>.png" (conf.py).
FIGURE_LANGUAGE_FILENAME = "{path}{language}/{basename}{ext}"
# Part of every fingerprint: changing how figures are translated or drawn redraws them.
RENDERING = "figure_i18n 3; Noto Sans CJK SC"
CJK_FAMILY = "Noto Sans CJK SC"
CJK_FILES = ("NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "NotoSansSC-Regular.otf")

# How an axes without a title is described, per language.
AXES_DESCRIPTION = {"en": "{y} vs {x}", LANGUAGE: "{y} 与 {x} 的关系"}
SEPARATOR = {"en": "; ", LANGUAGE: "；"}

_catalog_cache: dict[float, FigureCatalog] = {}


def catalog() -> FigureCatalog:
    """figures.po as it is now (re-read when the file changes)."""
    mtime = CATALOG.stat().st_mtime if CATALOG.exists() else 0.0
    if mtime not in _catalog_cache:
        _catalog_cache.clear()
        _catalog_cache[mtime] = FigureCatalog.load(CATALOG)
    return _catalog_cache[mtime]


def translated_path(image: Path) -> Path:
    return image.parent / LANGUAGE / image.name


def sidecar_path(image: Path) -> Path:
    """The record of the Chinese version of ``image`` (an English or a Chinese path)."""
    folder = image.parent if image.parent.name == LANGUAGE else image.parent / LANGUAGE
    return folder / f"{image.stem}.json"


# -- Fonts -----------------------------------------------------------------------------------


def ensure_cjk_font() -> str:
    """Register a Simplified Chinese font with matplotlib and return its family name."""
    from matplotlib import font_manager

    if any(f.name == CJK_FAMILY for f in font_manager.fontManager.ttflist):
        return CJK_FAMILY
    for path in font_manager.findSystemFonts():
        if Path(path).name in CJK_FILES:
            font_manager.fontManager.addfont(path)
    if not any(f.name == CJK_FAMILY for f in font_manager.fontManager.ttflist):
        raise ExtensionError(f"no Chinese font for the gallery figures ({CJK_FAMILY}): run "
                             "`make fonts` (Debian package fonts-noto-cjk)")
    return CJK_FAMILY


# -- What a figure says ----------------------------------------------------------------------


class _TextSlot:
    """One piece of text in a figure that can be read and replaced."""

    def __init__(self, get, set_, cjk_font):
        self.get, self.set, self.use_cjk_font = get, set_, cjk_font


def _artist_slot(text) -> _TextSlot:
    return _TextSlot(text.get_text, text.set_text,
                     lambda family: text.set_fontfamily([*text.get_fontfamily(), family]))


def _fixed_labels(formatter):
    """The mutable label table behind string tick labels, or None for computed (numeric) ones.

    ``set_xticks(ticks, labels)`` stores ``{position: label}`` in a FuncFormatter over
    ``Axis._format_with_dict``; ``set_ticklabels`` without fixed ticks uses a FixedFormatter.
    """
    from matplotlib.ticker import FixedFormatter, FuncFormatter

    if isinstance(formatter, FixedFormatter):
        return formatter.seq
    func = getattr(formatter, "func", None) if isinstance(formatter, FuncFormatter) else None
    if isinstance(func, functools.partial) and getattr(func.func, "__name__", "") == "_format_with_dict":
        return func.args[0]
    return None


def _tick_slots(axis) -> list[_TextSlot]:
    """Tick labels given as strings (``set_xticks(..., labels)``); numeric ticks have none."""
    slots = []
    for which, ticker in (("major", axis.major), ("minor", axis.minor)):
        table = _fixed_labels(ticker.formatter)
        if table is None:
            continue

        def cjk(family, which=which):
            current = axis.get_ticklabels(which=which)
            base = list(current[0].get_fontfamily()) if current else ["sans-serif"]
            axis.set_tick_params(which=which, labelfontfamily=[*base, family])

        keys = list(table.keys()) if isinstance(table, dict) else range(len(table))
        for key in keys:
            slots.append(_TextSlot(lambda t=table, k=key: str(t[k]),
                                   lambda value, t=table, k=key: t.__setitem__(k, value), cjk))
    return slots


def text_slots(fig) -> list[_TextSlot]:
    """Every text of ``fig`` a reader sees, in a stable order."""
    texts = [t for t in (getattr(fig, "_suptitle", None), getattr(fig, "_supxlabel", None),
                         getattr(fig, "_supylabel", None)) if t is not None]
    texts += fig.texts
    for legend in fig.legends:
        texts += [*legend.get_texts(), legend.get_title()]
    slots = []
    for ax in fig.axes:
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        if (legend := ax.get_legend()) is not None:
            texts += [*legend.get_texts(), legend.get_title()]
        slots += _tick_slots(ax.xaxis) + _tick_slots(ax.yaxis)
    unique = list({id(t): t for t in texts}.values())  # a suptitle is also in fig.texts
    return [_artist_slot(t) for t in unique if t.get_text()] + [s for s in slots if s.get()]


def describe(fig, language: str) -> str:
    """Alt text: the figure's titles, else what each axes plots against what."""
    titles = [getattr(fig, "_suptitle", None)] + [t for ax in fig.axes
                                                  for t in (ax._left_title, ax.title, ax._right_title)]
    parts = [t.get_text() for t in titles if t is not None and t.get_text()]
    if not parts:
        for ax in fig.axes:
            x, y = ax.xaxis.label.get_text(), ax.yaxis.label.get_text()
            if x and y:
                parts.append(AXES_DESCRIPTION[language].format(y=y, x=x))
            elif x or y:
                parts.append(x or y)
    text = SEPARATOR[language].join(" ".join(p.split()) for p in parts)
    return tidy_chinese_spacing(text) if language == LANGUAGE else text


def translate_figure(fig, figure_catalog: FigureCatalog, cjk_family: str) -> dict[str, str | None]:
    """Replace every text of ``fig`` by its translation; returns line -> translation (None: missing)."""
    lines: dict[str, str | None] = {}
    for slot in text_slots(fig):
        text = slot.get()
        for line in text.split("\n"):
            lines[line] = figure_catalog.translate_line(line)
        translated = figure_catalog.translate(text)
        if translated is None:
            continue  # check-po lists the missing message; the line stays in English meanwhile
        if translated != text:
            slot.set(translated)
            if not translated.isascii():
                slot.use_cjk_font(cjk_family)
    return {line: value for line, value in lines.items() if needs_translation(line)}


# -- The scraper ---------------------------------------------------------------------------


def _save_kwargs(fig) -> dict:
    """Keep a figure's own face and edge colours, as sphinx-gallery's scraper does."""
    import matplotlib

    to_rgba = matplotlib.colors.to_rgba
    return {attr: getattr(fig, f"get_{attr}")() for attr in ("facecolor", "edgecolor")
            if to_rgba(getattr(fig, f"get_{attr}")()) != to_rgba(matplotlib.rcParams[f"figure.{attr}"])}


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


_SUBPLOT_PARAMS = ("left", "right", "bottom", "top", "wspace", "hspace")


def _uses_tight_layout(fig) -> bool:
    """Whether the script laid ``fig`` out with ``tight_layout()`` (which leaves no engine behind):
    running it again changes nothing then.  Otherwise the script's own layout is put back."""
    if fig.get_layout_engine() is not None and fig.get_layout_engine().adjust_compatible is False:
        return False  # constrained layout redoes itself when the figure is drawn
    before = {name: getattr(fig.subplotpars, name) for name in _SUBPLOT_PARAMS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig.tight_layout()
    after = {name: getattr(fig.subplotpars, name) for name in _SUBPLOT_PARAMS}
    # tight_layout is a fixed point only up to a little drift in the gaps between axes.
    if all(abs(before[n] - after[n]) < 0.01 for n in _SUBPLOT_PARAMS):
        return True
    fig.subplots_adjust(**before)
    return False


def save_translated(fig, image: Path, save_kwargs: dict) -> dict:
    """Save the Chinese version of ``fig`` (already saved in English at ``image``); returns its record.

    Chinese text is narrower or wider than English, so a figure laid out with ``tight_layout``
    is laid out again after translation.
    """
    figure_catalog = catalog()
    english_alt = describe(fig, "en")
    relayout = _uses_tight_layout(fig)
    lines = translate_figure(fig, figure_catalog, ensure_cjk_font())
    if relayout:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fig.tight_layout()
    record = {
        "image": image.name,
        "alt": {"en": english_alt, LANGUAGE: describe(fig, LANGUAGE)},
        "lines": lines,
        "key": figure_catalog.key(lines) + RENDERING,
    }
    target = translated_path(image)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.stem + ".tmp" + target.suffix)
    fig.savefig(tmp, **save_kwargs)
    os.replace(tmp, target)
    _write_json(sidecar_path(image), record)
    return record


_IMAGE = """
.. image:: /{path}
   :class: sphx-glr-{kind}-img
"""


def scrape_figures(block, block_vars: dict, gallery_conf: dict, **kwargs) -> str:
    """sphinx-gallery image scraper: each open figure in English and in Chinese.

    The reST uses the standard ``image`` directive (so ``figure_language_filename`` applies)
    without ``:alt:`` (the HTML builds set it in the page's language, see ``_set_alt_texts``).
    """
    import matplotlib.pyplot as plt
    from sphinx_gallery.scrapers import HLIST_HEADER, HLIST_IMAGE_MATPLOTLIB

    paths = []
    try:
        for number, image_path in zip(plt.get_fignums(), block_vars["image_path_iterator"]):
            fig = plt.figure(number)
            image = Path(image_path)
            save_kwargs = {**_save_kwargs(fig), **kwargs}
            fig.savefig(image, **save_kwargs)
            save_translated(fig, image, save_kwargs)
            paths.append(PurePosixPath(os.path.relpath(image, gallery_conf["src_dir"])).as_posix())
    finally:
        plt.close("all")
    if len(paths) <= 1:
        return "".join(_IMAGE.format(path=p, kind="single") for p in paths)
    return HLIST_HEADER + "".join(HLIST_IMAGE_MATPLOTLIB + textwrap.indent(_IMAGE.format(path=p, kind="multi"), " " * 6)
                                  for p in paths)


def forget_translations(gallery_conf: dict, fname) -> None:
    """Before a script runs (``reset_modules``): drop the Chinese figures of its last run."""
    if fname is None:
        return
    src_dir = Path(gallery_conf["src_dir"])
    for gallery in gallery_conf["gallery_dirs"]:
        for old in (src_dir / gallery).glob(f"**/images/{LANGUAGE}/sphx_glr_{Path(fname).stem}_[0-9][0-9][0-9].*"):
            old.unlink()


# -- Build hooks -----------------------------------------------------------------------------


def _examples(app: Sphinx):
    """(script, output folder) of every gallery script."""
    conf = app.config.sphinx_gallery_conf
    src = Path(app.srcdir)
    for examples, gallery in zip(conf["examples_dirs"], conf["gallery_dirs"]):
        for script in sorted((src / examples).rglob("*.py")):
            yield script, src / gallery / script.parent.relative_to(src / examples)


def stale_translations(app: Sphinx) -> list[tuple[Path, Path]]:
    """(script, output folder) of the scripts whose Chinese figures are missing or were drawn
    with other translations than figures.po holds now."""
    figure_catalog = catalog()
    stale = []
    for script, out in _examples(app):
        for image in sorted((out / "images").glob(f"sphx_glr_{script.stem}_[0-9][0-9][0-9].png")):
            record_path = sidecar_path(image)
            if not record_path.exists() or not translated_path(image).exists():
                stale.append((script, out))
                break
            record = json.loads(record_path.read_text(encoding="utf-8"))
            if record.get("key") != figure_catalog.key(record.get("lines", {})) + RENDERING:
                stale.append((script, out))
                break
    return stale


def _rerun_stale_scripts(app: Sphinx) -> None:
    """Runs before sphinx-gallery: a script whose figure translations changed runs again."""
    ensure_cjk_font()
    pattern = re.compile(app.config.sphinx_gallery_conf.get("filename_pattern", r"/plot"))
    for script, out in stale_translations(app):
        md5 = out / f"{script.name}.md5"
        # A script outside TUTORIAL_GALLERY_ONLY does not run now; the next full build redraws it.
        if md5.exists() and pattern.search(str(script)):
            logger.info(f"figure_i18n: {script.name}: its figure translations changed; running it again")
            md5.unlink()


def _make_chinese_thumbnails(app: Sphinx) -> None:
    """Runs after sphinx-gallery: each thumbnail in Chinese, from the same figure as the English one."""
    from sphinx_gallery.gen_rst import scale_image
    from sphinx_gallery.py_source_parser import split_code_and_text_blocks

    size = app.config.sphinx_gallery_conf["thumbnail_size"]
    for script, out in _examples(app):
        images = sorted((out / "images" / LANGUAGE).glob(f"sphx_glr_{script.stem}_[0-9][0-9][0-9].png"))
        if not images:
            continue
        number = split_code_and_text_blocks(str(script))[0].get("thumbnail_number", 1)
        source = images[number - 1 if number > 0 else number]
        thumb = out / "images" / "thumb" / LANGUAGE / f"sphx_glr_{script.stem}_thumb.png"
        if thumb.exists() and thumb.stat().st_mtime >= source.stat().st_mtime:
            continue
        thumb.parent.mkdir(parents=True, exist_ok=True)
        tmp = thumb.with_name(thumb.stem + ".tmp.png")
        scale_image(str(source), str(tmp), *size)
        os.replace(tmp, thumb)


def _set_alt_texts(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Alt text of gallery figures in the page's language (HTML only: never a catalog message)."""
    if app.builder.format != "html":
        return
    language = LANGUAGE if app.config.language == LANGUAGE else "en"
    for image in doctree.findall(nodes.image):
        record_path = sidecar_path(Path(app.srcdir) / image["uri"])
        if image.get("alt") or not record_path.exists():
            continue
        alt = json.loads(record_path.read_text(encoding="utf-8"))["alt"][language]
        image["alt"] = tidy_chinese_spacing(alt) if language == LANGUAGE else alt


def setup(app: Sphinx) -> dict:
    # sphinx-gallery generates the gallery in builder-inited at priority 500.
    app.connect("builder-inited", _rerun_stale_scripts, priority=400)
    app.connect("builder-inited", _make_chinese_thumbnails, priority=600)
    app.connect("doctree-resolved", _set_alt_texts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
