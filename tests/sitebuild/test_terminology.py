"""The Chinese catalogs keep accuracy and precision apart: 准确率 is how often a model is
right, 精度 is a number format (see paddle_style_guide/guide/terminology.md)."""

from __future__ import annotations

import re

import polib

from .conftest import ROOT

CATALOGS = ROOT / "docs" / "locales" / "zh_CN" / "LC_MESSAGES"
ACCURACY = re.compile(r"\baccura(?:cy|te)", re.I)
PRECISION = re.compile(r"\bprecis|\bprecision", re.I)


def accuracy_called_precision(catalog: polib.POFile) -> list[str]:
    """Messages about accuracy, and not about precision, whose translation says 精度
    (messages that name the word 精度 themselves, like the rule, are exempt)."""
    return [entry.msgid[:80] for entry in catalog
            if not entry.obsolete and ACCURACY.search(entry.msgid)
            and not PRECISION.search(entry.msgid) and "精度" not in entry.msgid
            and "精度" in entry.msgstr]


def test_accuracy_is_never_translated_as_precision():
    found = {str(path.relative_to(CATALOGS)): bad for path in sorted(CATALOGS.rglob("*.po"))
             if (bad := accuracy_called_precision(polib.pofile(str(path))))}
    assert not found, f"write 准确率 for accuracy, 精度 only for number formats: {found}"


def test_the_rule_catches_a_wrong_translation():
    catalog = polib.POFile()
    for msgid, msgstr in [
        ("Top-1 accuracy drops by 0.2 points.", "top-1 精度下降 0.2 个百分点。"),
        ("FP16 keeps accuracy at FP32 precision.", "FP16 保持 FP32 精度下的准确率。"),
        ("Top-1 accuracy", "top-1 准确率"),
        ("Accuracy is never 精度.", "准确率绝不写作精度。"),
    ]:
        catalog.append(polib.POEntry(msgid=msgid, msgstr=msgstr))
    assert accuracy_called_precision(catalog) == ["Top-1 accuracy drops by 0.2 points."]
