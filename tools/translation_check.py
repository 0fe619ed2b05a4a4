"""Compare the extracted English messages with the zh_CN catalogs.

A message is a problem when its catalog is missing, when it has no translation, when its
translation is marked fuzzy, or when the "translation" is the English sentence copied
unchanged, or when its inline markup (literals and roles) differs from the English (a stray or
missing backquote).  Messages are matched by their exact English text, so editing an English
sentence makes its old translation stale until the catalog is updated and re-translated.

Before any of that, every catalog is read strictly (:func:`po_syntax_errors`), with the rules of
GNU gettext's ``msgfmt``: a string that is not closed, a line that is neither a comment nor a
keyword nor a string, a file that is not UTF-8 text, a message without its ``msgstr`` or defined
twice is reported as ``file:line: what``. (polib, which reads the catalogs afterwards, is lenient:
it silently drops the last character of an unterminated ``msgstr "...`` and fails with a traceback
on a garbage line or a binary file.)
"""

from __future__ import annotations

import re
from collections import Counter
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


# A role such as :doc:`...` or :math:`...` (not inside a word or after a backquote).
ROLE = re.compile(r"(?<![\w`]):([a-z][\w.-]*(?::[a-z][\w.-]*)?):`")


def inline_markup(text: str) -> tuple[dict[str, int], int, int]:
    """(roles by name, double backquotes, other backquotes) of a message.

    A translation has the same inline literals and roles as its English message.  One stray or missing
    backquote changes these counts, while the Sphinx build may not notice: the text after an unclosed
    literal ends up inside a literal node, which docs/_ext/markup_check.py leaves alone.
    """
    return dict(Counter(ROLE.findall(text))), text.count("``"), text.replace("``", "").count("`")


def markup_difference(msgid: str, msgstr: str) -> str | None:
    """What differs between the inline markup of a message and of its translation, or None."""
    roles_en, double_en, single_en = inline_markup(msgid)
    roles_zh, double_zh, single_zh = inline_markup(msgstr)
    if roles_en != roles_zh:
        return f"roles {roles_en or '{}'} in English, {roles_zh or '{}'} in the translation"
    if double_en != double_zh:
        return f"{double_en} ``double backquotes`` in English, {double_zh} in the translation"
    if single_en != single_zh:
        return f"{single_en} single backquotes in English, {single_zh} in the translation"
    return None


def is_language_neutral(msgid: str) -> bool:
    """True for messages whose translation is the message itself."""
    return bool(CJK.search(msgid)) or any(p.match(msgid) for p in _NEUTRAL)


def fill_language_neutral(po_dir: Path) -> int:
    """Copy language-neutral messages into empty translations; returns how many were filled."""
    filled = 0
    for po_path in po_dir.rglob("*.po"):
        broken = po_syntax_errors(po_path)
        if broken:
            raise SystemExit(broken[0])
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


# --- Strict reading (msgfmt's syntax) ----------------------------------------------------------------

_STRING = re.compile(r'"((?:[^"\\]|\\(?:[\\"ntrabfv?]|[0-7]{1,3}|x[0-9A-Fa-f]+))*)"\s*$')
_KEYWORD = re.compile(r"^(msgctxt|msgid|msgid_plural|msgstr(?:\[(\d+)\])?)[ \t]+(.*)$")


def po_syntax_errors(path: Path) -> list[str]:
    """``path:line: what`` for every syntax error of a PO/POT file (empty when it is well formed)."""
    raw = path.read_bytes()

    def line_at(offset: int) -> int:
        return raw.count(b"\n", 0, offset) + 1

    nul = raw.find(b"\0")
    if nul >= 0:
        return [f"{path}:{line_at(nul)}: binary data (NUL byte): not a PO file"]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [f"{path}:{line_at(exc.start)}: not UTF-8 (byte 0x{raw[exc.start]:02x}); catalogs are UTF-8"]
    errors: list[str] = []
    entry: dict = {}  # keyword -> line of the entry being read
    last = None  # keyword that a continuation string extends
    seen: dict[tuple, int] = {}

    def close(lineno: int) -> None:
        nonlocal entry
        if not entry:
            return
        if "msgid" not in entry:
            errors.append(f"{path}:{min(entry.values())}: msgstr without msgid")
        elif not any(k.startswith("msgstr") for k in entry):
            errors.append(f"{path}:{entry['msgid']}: msgid without msgstr")
        elif entry.get("_obsolete") is None:
            key = (entry.get("_ctxt"), entry.get("_id"))
            if key in seen:
                errors.append(f"{path}:{entry['msgid']}: duplicate message definition (first at line {seen[key]})")
            else:
                seen[key] = entry["msgid"]
        entry = {}

    for lineno, line in enumerate(text.splitlines(), start=1):
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].lstrip()
            if line.startswith("|"):  # "#~|": the previous msgid of an obsolete entry, a comment
                continue
        stripped = line.strip()
        if not stripped:
            last = None
            continue
        if stripped.startswith("#"):
            if entry and last is not None:
                close(lineno)
            last = None
            continue
        m = _KEYWORD.match(stripped)
        if m:
            keyword, value = m[1], m[3]
            if keyword in ("msgctxt", "msgid") and ("msgid" in entry or any(k.startswith("msgstr") for k in entry)):
                close(lineno)  # a new entry begins (close() reports an entry left without msgstr)
            if keyword in entry:
                errors.append(f"{path}:{lineno}: {keyword} repeated")
            entry[keyword] = lineno
            if obsolete:
                entry["_obsolete"] = True
            last = keyword
        elif stripped.startswith('"'):
            if last is None:
                errors.append(f"{path}:{lineno}: a string without msgid/msgstr before it")
                continue
            value = stripped
        else:
            errors.append(f"{path}:{lineno}: not a comment, keyword or string: {stripped[:40]!r}")
            last = None
            continue
        s = _STRING.match(value)
        if s is None:
            what = "unterminated string" if value.startswith('"') and not value.rstrip().endswith('"') else \
                "malformed string (a bad escape, or text after the closing quote)"
            errors.append(f"{path}:{lineno}: {what}")
            continue
        if last in ("msgid", "msgctxt"):
            k = "_id" if last == "msgid" else "_ctxt"
            entry[k] = entry.get(k, "") + s[1]
    close(len(text.splitlines()) + 1)
    return errors


def find_translation_problems(pot_dir: Path, po_dir: Path) -> list[str]:
    """One line per problem, ``catalog: problem: message`` (message shortened); a catalog that is not
    well-formed gives ``file:line: what`` lines instead, and its messages are not compared."""
    problems: list[str] = []
    for pot_path in sorted(pot_dir.rglob("*.pot")):
        name = pot_path.relative_to(pot_dir).with_suffix("")
        po_path = po_dir / name.with_suffix(".po")
        broken = po_syntax_errors(pot_path)
        if broken:
            problems += broken
            continue
        template = polib.pofile(str(pot_path))
        if not po_path.exists():
            problems.append(f"{name}: missing catalog {po_path}")
            continue
        broken = po_syntax_errors(po_path)
        if broken:
            problems += broken
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
            elif (difference := markup_difference(message.msgid, entry.msgstr)) is not None:
                problems.append(f"{name}: inline markup differs ({difference}; a backquote is stray or "
                                f"missing): {short}")
    return problems
