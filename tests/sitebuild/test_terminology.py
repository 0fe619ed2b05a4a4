"""One Chinese term per concept in every zh_CN catalog (see paddle_style_guide/guide/terminology.md).

The catalogs keep accuracy and precision apart (准确率 is how often a model is right, 精度 is
a number format), and each concept in ``TERMS`` has one Chinese name on every page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polib
import pytest

from .conftest import ROOT

CATALOGS = ROOT / "docs" / "locales" / "zh_CN" / "LC_MESSAGES"
ACCURACY = re.compile(r"\baccura(?:cy|te)", re.I)
PRECISION = re.compile(r"\bprecis|\bprecision", re.I)
# Code, math and link targets are names, not prose: ``kernel_size``, `model.plan`, $x$, <target>
# (a role's text, :ref:`跳到页尾 <target>`, is prose).
CODE = re.compile(r"``.*?``|(?<!:)`[^`]*`|\$[^$]*\$|<[^<>\s]+>")


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


@dataclass(frozen=True)
class Term:
    """A concept: where the English names it, the translation says ``chinese``; it never uses
    the Chinese words in ``avoid``, nor leaves the English matched by ``left_in_english``."""

    concept: str
    english: re.Pattern
    chinese: str
    avoid: tuple[str, ...] = ()
    left_in_english: re.Pattern | None = None


# The chosen terms, also listed in paddle_style_guide/guide/terminology.md.
TERMS = (
    # A serialized TensorRT engine keeps its file-type name; 计划文件 is a word-for-word calque.
    Term("plan", re.compile(r"\bplans?\b", re.I), "plan", avoid=("计划文件",)),
    # A GPU function (CUDA, Triton).  A convolution's "kernel size" is 卷积核, another concept.
    Term("kernel", re.compile(r"\bkernels?\b(?! size)", re.I), "内核", avoid=("核函数",),
         left_in_english=re.compile(r"(?<![\w.])kernels?(?![\w])", re.I)),
    # English only as the gloss of a first mention: 张量核心（Tensor Core）.
    Term("Tensor Core", re.compile(r"\btensor[- ]cores?\b", re.I), "张量核心",
         left_in_english=re.compile(r"(?<!张量核心（)(?<!张量核心 \()tensor[- ]cores?", re.I)),
    # The link at the top of every gallery page.
    Term("Go to the end", re.compile(r"\bGo to the end\b"), "跳到页尾", avoid=("跳到末尾", "转到末尾")),
)


def term_problems(term: Term, catalog: polib.POFile) -> list[str]:
    """Messages that name ``term`` in English but whose translation does not use its Chinese name,
    or that use another name for it.  Exempt: a message translated as itself (a name in a
    glossary's English column), and one whose English names an avoided word itself (the rule).
    """
    problems = []
    for entry in catalog:
        if entry.obsolete or not entry.msgstr or entry.msgstr == entry.msgid:
            continue
        english, chinese = CODE.sub(" ", entry.msgid), CODE.sub(" ", entry.msgstr)
        if any(word in english for word in term.avoid):
            continue
        if any(word in chinese for word in term.avoid) or (
                term.left_in_english and term.left_in_english.search(chinese)):
            problems.append(f"{term.concept}: another name in {entry.msgstr[:60]!r}")
        elif term.english.search(english) and term.chinese not in chinese:
            problems.append(f"{term.concept}: no {term.chinese} in {entry.msgstr[:60]!r}")
    return problems


@pytest.mark.parametrize("term", TERMS, ids=lambda t: t.concept)
def test_one_chinese_term_per_concept(term: Term):
    found = {str(path.relative_to(CATALOGS)): bad for path in sorted(CATALOGS.rglob("*.po"))
             if (bad := term_problems(term, polib.pofile(str(path))))}
    assert not found, f"write {term.chinese} for {term.concept}: {found}"


@pytest.mark.parametrize(("concept", "msgid", "msgstr", "ok"), [
    ("plan", "TensorRT-RTX builds a plan.", "TensorRT-RTX 构建计划文件。", False),
    ("plan", "TensorRT-RTX builds a plan.", "TensorRT-RTX 构建 plan。", True),
    ("plan", "Load ``model.plan``.", "加载 ``model.plan``。", True),
    ("plan", "The serialized engine; not 计划文件.", "序列化的引擎；不写作计划文件。", True),
    ("kernel", "The kernels on a GPU", "GPU 上的 kernel", False),
    ("kernel", "The kernels on a GPU", "GPU 上的核函数", False),
    ("kernel", "The kernels on a GPU", "GPU 上的内核", True),
    ("kernel", "input channels times kernel size", "输入通道数乘以卷积核大小", True),
    ("kernel", "See ``demos.plugins.cuda_kernel``.", "见 ``demos.plugins.cuda_kernel``。", True),
    ("Tensor Core", "Tensor Core rates", "Tensor Core 算力", False),
    ("Tensor Core", "Tensor Core rates", "张量核心算力", True),
    ("Tensor Core", "Tensor Cores run FP16.", "张量核心（Tensor Core）运行 FP16。", True),
    ("Tensor Core", "tensor core", "tensor core", True),  # the English column of the glossary
    ("Go to the end", ":ref:`Go to the end <x>` to download", ":ref:`跳到末尾 <x>` 下载", False),
    ("Go to the end", ":ref:`Go to the end <x>` to download", ":ref:`跳到页尾 <x>` 下载", True),
])
def test_the_term_rules_catch_other_names(concept, msgid, msgstr, ok):
    term = next(t for t in TERMS if t.concept == concept)
    catalog = polib.POFile()
    catalog.append(polib.POEntry(msgid=msgid, msgstr=msgstr))
    assert (term_problems(term, catalog) == []) is ok
