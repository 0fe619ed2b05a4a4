"""Compare the extracted English messages with the zh_CN catalogs.

A message is a problem when its catalog is missing, when it has no translation, when its
translation is marked fuzzy, or when the "translation" is the English sentence copied
unchanged.  Messages are matched by their exact English text, so editing an English
sentence makes its old translation stale until the catalog is updated and re-translated.
"""

from __future__ import annotations

import re
from pathlib import Path

import polib

CJK = re.compile(r"[\u3400-\u9fff]")
# Four or more English words in a row: prose, which must not be left in English.
ENGLISH_PROSE = re.compile(r"[A-Za-z]{2,}(?:[ ,;:]+[A-Za-z]{2,}){3,}")


# A translation is parsed again as Markdown: "1. 术语" would become a list, not a heading.
LIST_MARKER = re.compile(r"^(?:\d+[.)]|[-*+])\s")

# Messages that read the same in both languages: raw HTML anchors, text already in Chinese,
# bare cross-references, and names such as "TensorRT-RTX", "FP16" or "TensorRT 11" (one token
# holding a capital or a digit after the first letter, optionally followed by a version).
_NEUTRAL = (
    re.compile(r'^<a (?:name|id)="[^"]*"\s*>\s*</a>$'),
    re.compile(r"^:(?:doc|ref):`[^`]*`$"),
    re.compile(r"^\w[\w.+\-/]*[A-Z0-9][\w.+\-/]*(?: \d+(?:\.\d+)*)?$"),
)


def is_language_neutral(msgid: str) -> bool:
    """True for messages whose translation is the message itself."""
    return bool(CJK.search(msgid)) or any(p.match(msgid) for p in _NEUTRAL)


def fill_language_neutral(po_dir: Path) -> int:
    """Copy language-neutral messages into empty translations; returns how many were filled."""
    filled = 0
    for po_path in po_dir.rglob("*.po"):
        catalog = polib.pofile(str(po_path), wrapwidth=0)
        changed = False
        for entry in catalog:
            if not entry.msgstr and is_language_neutral(entry.msgid):
                entry.msgstr = entry.msgid
                changed = True
                filled += 1
        if catalog.metadata_is_fuzzy:
            catalog.metadata_is_fuzzy = False
            changed = True
        if changed:
            catalog.save(str(po_path))
    return filled


def _is_copied_prose(entry: polib.POEntry) -> bool:
    return (
        entry.msgstr == entry.msgid
        and bool(ENGLISH_PROSE.search(entry.msgid))
        and not CJK.search(entry.msgstr)
    )


def find_translation_problems(pot_dir: Path, po_dir: Path) -> list[str]:
    """One line per problem, ``catalog: problem: message`` (message shortened)."""
    problems: list[str] = []
    for pot_path in sorted(pot_dir.rglob("*.pot")):
        name = pot_path.relative_to(pot_dir).with_suffix("")
        po_path = po_dir / name.with_suffix(".po")
        template = polib.pofile(str(pot_path))
        if not po_path.exists():
            problems.append(f"{name}: missing catalog {po_path}")
            continue
        catalog = {e.msgid: e for e in polib.pofile(str(po_path)) if not e.obsolete}
        for message in template:
            short = message.msgid.replace("\n", " ")[:70]
            entry = catalog.get(message.msgid)
            if entry is None or not entry.msgstr.strip():
                problems.append(f"{name}: untranslated: {short}")
            elif "fuzzy" in entry.flags:
                problems.append(f"{name}: fuzzy: {short}")
            elif LIST_MARKER.match(entry.msgstr):
                problems.append(f"{name}: starts with a list marker, escape it (1\\. ...): {short}")
            elif _is_copied_prose(entry):
                problems.append(f"{name}: copied English: {short}")
    return problems
