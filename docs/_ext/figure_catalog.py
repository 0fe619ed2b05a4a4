"""The gettext catalog of what the gallery figures say (``figures.po``), and its message rules.

A figure's text is data-dependent ("EfficientNet-Lite0 activations on 16 calibration images",
"blocks.5.0.conv_pw input"), so a drawn line is looked up by its *template*: standalone
numbers, ISO dates and code names become positional placeholders (``{0}``, ``{1}``, ...) that
the translation repeats, so the catalog holds "EfficientNet-Lite0 activations on {0}
calibration images" once, whatever the count.
A translator may also turn a message into a *pattern* with named placeholders (and no
positional ones) for text that is data but not a number, such as a GPU name or a version
string: the msgid "PyTorch eager on {gpu}, {date}" then matches the drawn line
"PyTorch eager on NVIDIA H100 80GB HBM3, 2026-01-05", and the msgstr
"PyTorch eager 模式，{gpu}，{date}" puts the captured text back.  An exact message wins over a
pattern; among patterns, the one with the most literal text.

Each line of a multi-line text is one message.  Lines without an English word (tick values,
"|x|", "FP8 E4M3", layer names) are never looked up: they read the same in Chinese.  This module knows nothing of matplotlib: the
scraper (``figure_i18n``) gives it strings.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polib

# Data that a translation repeats unchanged, so the catalog holds it as a placeholder:
# a code name ("blocks.5.0.conv_pw", "data_max", "efficientnet_lite0"), an ISO date, or a
# number that is not part of a word, a name or a version ("H100", "99.99th", "80GB" stay as
# they are): "16", "-14", "0.25", "1e-06", "2026-01-05"; a speed-up's "x" may follow: "2.58x".
_DATA = re.compile(
    r"(?<![\w.])[A-Za-z_][A-Za-z0-9]*(?:[._][A-Za-z0-9]+)+(?![\w])"
    r"|(?<![\w.])(?:\d{4}-\d{2}-\d{2}|[-+\u2212]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?=x\b|(?!\.?\w))")
_NAMED = re.compile(r"\{([A-Za-z_]\w*)\}")
# What is left of a message once placeholders, names with digits ("FP16", "Lite0") and
# acronyms ("SXM", "TOPS", "SMs") are gone must hold a word: "SQNR [dB]" is a message;
# "FP8 E4M3", "NVIDIA H200", "|x|" and "conv_head" are not.
_NOT_WORDS = re.compile(r"\{\w*\}|\w*\d\w*|\b[A-Z]{2,}s?\b")
_WORD = re.compile(r"[A-Za-z]{2,}")


def needs_translation(line: str) -> bool:
    """Only lines with an English word are messages; numbers, names and symbols read the same."""
    return bool(_WORD.search(_NOT_WORDS.sub(" ", template(line)[0])))


def template(line: str) -> tuple[str, list[str]]:
    """``("{0} input, batch {1}", ["blocks.5.0.conv_pw", "256"])`` for "blocks.5.0.conv_pw input, batch 256"."""
    values: list[str] = []

    def placeholder(match: re.Match) -> str:
        values.append(match.group(0))
        return "\0" + str(len(values) - 1) + "\1"

    marked = _DATA.sub(placeholder, line)
    escaped = marked.replace("{", "{{").replace("}", "}}")
    return escaped.replace("\0", "{").replace("\1", "}"), values


_CJK = "\u3400-\u9fff"
_CJK_PUNCT = "\u3000-\u303f\uff00-\uffef"
_SPACE_TO_DROP = re.compile(rf"(?<=[{_CJK}{_CJK_PUNCT}])\s+(?=[{_CJK}{_CJK_PUNCT}])"
                            rf"|(?<=[{_CJK_PUNCT}])\s+|\s+(?=[{_CJK_PUNCT}])")
_SPACE_TO_ADD = re.compile(rf"(?<=[{_CJK}])(?=[A-Za-z0-9])|(?<=[A-Za-z0-9])(?=[{_CJK}])")


def tidy_chinese_spacing(text: str) -> str:
    """Chinese plain-text spacing: none between Chinese characters or next to full-width
    punctuation (reST needs spaces around markup, plain text does not), one between a Chinese
    character and a Latin letter or digit ("用 16 张图像")."""
    text = _SPACE_TO_DROP.sub("", " ".join(text.split()))
    return _SPACE_TO_ADD.sub(" ", text)


def _pattern_regex(msgid: str) -> re.Pattern:
    parts = []
    position = 0
    for match in _NAMED.finditer(msgid):
        parts.append(re.escape(msgid[position:match.start()]))
        parts.append(f"(?P<{match.group(1)}>.+?)")
        position = match.end()
    parts.append(re.escape(msgid[position:]))
    return re.compile("".join(parts) + r"\Z", re.S)


@dataclass
class FigureCatalog:
    """Translations of figure lines, read from a ``.po`` file (missing file: nothing translated)."""

    translations: dict[str, str] = field(default_factory=dict)  # msgid -> msgstr, translated only
    msgids: set[str] = field(default_factory=set)  # every message, translated or not
    patterns: list[tuple[str, re.Pattern]] = field(default_factory=list)

    @classmethod
    def load(cls, po_path: Path) -> FigureCatalog:
        catalog = cls()
        if not po_path.exists():
            return catalog
        for entry in polib.pofile(str(po_path)):
            if entry.obsolete:
                continue
            catalog.msgids.add(entry.msgid)
            if entry.msgstr.strip() and "fuzzy" not in entry.flags:
                catalog.translations[entry.msgid] = entry.msgstr
            if _NAMED.search(entry.msgid):
                catalog.patterns.append((entry.msgid, _pattern_regex(entry.msgid)))
        # The most specific pattern (most literal text) wins.
        catalog.patterns.sort(key=lambda p: -len(_NAMED.sub("", p[0])))
        return catalog

    def message_for(self, line: str) -> tuple[str, dict[str, str], list[str]]:
        """The msgid that covers ``line``, the named values it captured, and the numbers."""
        msgid, numbers = template(line)
        if msgid in self.translations:
            return msgid, {}, numbers
        # A pattern covers a line whose own message is still untranslated: that is how a
        # translator generalizes a message the last `make po` extracted.
        for pattern_id, regex in self.patterns:
            if match := regex.match(line):
                return pattern_id, match.groupdict(), []
        return msgid, {}, numbers

    def translate_line(self, line: str) -> str | None:
        """The translated line, or None when its message has no translation yet."""
        if not needs_translation(line):
            return line
        msgid, named, numbers = self.message_for(line)
        msgstr = self.translations.get(msgid)
        if msgstr is None:
            return None
        if named:
            if set(_NAMED.findall(msgstr)) != set(named):
                return None  # a translation that drops or invents placeholders: treat as missing
            return _NAMED.sub(lambda m: named[m.group(1)], msgstr)
        try:
            return msgstr.format(*numbers)
        except (IndexError, KeyError, ValueError):
            return None

    def translate(self, text: str) -> str | None:
        """Translate each line of ``text``; None if any line has no translation."""
        lines = [self.translate_line(line) for line in text.split("\n")]
        return None if any(line is None for line in lines) else "\n".join(lines)

    def key(self, texts: Iterable[str]) -> str:
        """A fingerprint of how ``texts`` translate today: it changes when a translation does."""
        pairs = sorted({(line, self.translate_line(line) or "")
                        for text in texts for line in text.split("\n") if needs_translation(line)})
        return hashlib.sha256(json.dumps(pairs, ensure_ascii=False).encode()).hexdigest()


def placeholder_problems(msgid: str, msgstr: str) -> list[str]:
    """A translation must keep every placeholder of its message, and add none."""
    def names(text: str) -> list[str]:
        return sorted(re.findall(r"(?<!\{)\{(\w+)\}(?!\})", text))
    return [] if names(msgid) == names(msgstr) else [f"placeholders {names(msgid)} != {names(msgstr)}"]


_IMAGE_NAME = re.compile(r"sphx_glr_(.+)_\d{3}\.png")


def _script_of(image: str) -> str:
    match = _IMAGE_NAME.fullmatch(image)
    return match.group(1) if match else image


def write_pot(lines_by_image: dict[str, Iterable[str]], catalog: FigureCatalog, pot_path: Path,
              keep_from: Path | None = None) -> int:
    """Write the template of every message the figures draw; returns the message count.

    A line already covered by a catalog message (exact or pattern) is listed under that message,
    so a pattern written by a translator survives ``make po``.  Each message carries an example
    of the drawn text and the images it appears in, for the translator.  Messages of
    ``keep_from`` (figures.po) whose images all belong to scripts that have not run in this
    checkout (a partial build) are kept as they are: nothing says they are obsolete.
    """
    examples: dict[str, tuple[str, set[str]]] = {}
    for image, texts in sorted(lines_by_image.items()):
        for text in texts:
            for line in text.split("\n"):
                if not needs_translation(line):
                    continue
                msgid = catalog.message_for(line)[0]
                example, images = examples.setdefault(msgid, (line, set()))
                images.add(image)
    pot = polib.POFile(wrapwidth=0)
    pot.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Content-Transfer-Encoding": "8bit"}
    for msgid, (example, images) in sorted(examples.items()):
        comment = f"e.g. {example}\nin {', '.join(sorted(images))}"
        pot.append(polib.POEntry(msgid=msgid, msgstr="", comment=comment))
    if keep_from is not None and keep_from.exists():
        ran = {_script_of(image) for image in lines_by_image}
        for entry in polib.pofile(str(keep_from)):
            # polib wraps long comments: names are separated by commas and any whitespace.
            images = re.split(r"[,\s]+", entry.comment.rpartition("\nin ")[2].strip()) if "\nin " in entry.comment else []
            if entry.obsolete or entry.msgid in examples or not images:
                continue
            if not {_script_of(image) for image in images} & ran:
                pot.append(polib.POEntry(msgid=entry.msgid, msgstr="", comment=entry.comment))
    pot_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = pot_path.with_suffix(".pot.tmp")
    pot.save(str(tmp))
    tmp.replace(pot_path)
    return len(pot)
