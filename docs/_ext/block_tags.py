"""Code-block tags are for the tests; readers get a sentence instead.

A page's code blocks carry tags in their leading comment lines (``paddle_style_guide/guide/code-blocks.md``):
``# requires: tensorrt``, ``# trt-api: 10``, ``# test: run``.  The tests and the TensorRT API checker read
them from the sources (:mod:`paddle_style_guide.trt_api.blocks`), so the rendered page does not need them,
and a reader who copies a block should not get them.  This transform removes them from every rendered
block and says in words what they meant:

* a block that is not run (``# requires:``) gets a note above it, such as "Needs TensorRT and an NVIDIA
  GPU: not run when this site was built."; an old-API example (``# trt-api:`` below 10) says that it is
  old code shown for comparison;
* a shell block the tests run (``# test: run``) gets the class ``tested-commands``, which the tests of the
  rendered site use to find it.

The note is an ordinary paragraph added before Sphinx's i18n transform, so the gettext build extracts it
into the page's catalog and the Chinese build translates it there, like any other sentence of the page.
The style guide's own pages (``paddle_style_guide/guide/``) teach the tags, so their blocks keep them.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.util import logging

from paddle_style_guide.trt_api import blocks

logger = logging.getLogger(__name__)

NOTE_CLASS = "code-not-run"
TESTED_CLASS = "tested-commands"
# Pages whose blocks show the tags on purpose.
KEEP_TAGS_UNDER = ("paddle_style_guide/",)
# What a ``# requires:`` token needs, in the note's words (``context`` needs nothing more itself).
NEEDS = {
    "tensorrt": "TensorRT and an NVIDIA GPU",
    "tensorrt-rtx": "TensorRT-RTX and an RTX GPU",
    "gpu": "a CUDA GPU",
}
NOT_RUN = "not run when this site was built."


def leading_tags(code: str) -> tuple[list[int], dict[str, str]]:
    """(0-based indexes of the tag lines, the tags) among the leading comment lines of a block, read as
    :func:`paddle_style_guide.trt_api.blocks.read_tags` reads them."""
    found: list[int] = []
    tags: dict[str, str] = {}
    for i, line in enumerate(code.splitlines()):
        stripped = line.strip()
        if not stripped.startswith("#"):
            break
        match = blocks.TAG.match(stripped)
        if match is not None:
            found.append(i)
            tags[match[1]] = match[2]
    return found, tags


def note_for(tags: dict[str, str]) -> str | None:
    """The sentence shown above a block with these tags, or None for a block that needs no note."""
    requires = tags.get("requires", "").replace(",", " ").split()
    if not requires:
        return None
    claimed = [v.strip() for v in tags.get("trt-api", "").split(",") if v.strip()]
    majors = sorted({int(v.split(".")[0]) for v in claimed if v.split(".")[0].isdigit()})
    if majors and majors[-1] < 10:
        return f"Old code (TensorRT {majors[-1]}), shown for comparison: {NOT_RUN}"
    needs = [NEEDS[t] for t in requires if t in NEEDS]
    if {"tensorrt", "tensorrt-rtx"} & set(requires):
        needs = [n for n in needs if n != NEEDS["gpu"]]  # TensorRT already needs the GPU
    if "tensorrt" in requires and majors == [10]:  # TensorRT 10 only
        needs[needs.index(NEEDS["tensorrt"])] = NEEDS["tensorrt"].replace("TensorRT", "TensorRT 10", 1)
    if not needs:
        return f"Continues the block above: {NOT_RUN}"
    return f"Needs {' and '.join(needs)}: {NOT_RUN}"


def strip_tags(block: nodes.literal_block) -> dict[str, str] | None:
    """Remove the tag lines of ``block`` (and a blank line they leave on top); return the tags, or None."""
    if len(block) != 1 or not isinstance(block[0], nodes.Text):
        return None  # parsed-literal or already highlighted: not a plain code block
    code = block.astext()
    found, tags = leading_tags(code)
    if not found:
        return None
    kept = [i for i in range(len(code.splitlines())) if i not in found]
    lines = code.splitlines()
    if kept and not lines[kept[0]].strip():
        kept = kept[1:]
    text = "\n".join(lines[i] for i in kept)
    block.rawsource = text
    block.children = []
    block += nodes.Text(text)
    args = block.get("highlight_args", {})
    if args.get("hl_lines"):  # emphasize-lines counts from 1, in the lines that remain
        new_number = {old + 1: new + 1 for new, old in enumerate(kept)}
        args["hl_lines"] = [new_number[n] for n in args["hl_lines"] if n in new_number]
    return tags


class CodeBlockTags(SphinxTransform):
    """Strip the tags of every code block; add the note, or the class of a tested block."""

    default_priority = 15  # before sphinx.transforms.i18n.Locale (20), which translates the note

    def apply(self, **kwargs) -> None:
        docname = self.env.current_document.docname
        if docname.startswith(KEEP_TAGS_UNDER):
            return
        for block in list(self.document.findall(nodes.literal_block)):
            tags = strip_tags(block)
            if not tags:
                continue
            if tags.get("test") == "run":
                block["classes"].append(TESTED_CLASS)
            note = note_for(tags)
            if note is None:
                continue
            # A code-block with a caption sits in a container: the note goes above the container.
            anchor = block.parent if isinstance(block.parent, nodes.container) and \
                block.parent.get("literal_block") else block
            paragraph = nodes.paragraph(note, note, classes=[NOTE_CLASS])
            paragraph.source = block.source or self.document["source"]
            paragraph.line = block.line
            anchor.parent.insert(anchor.parent.index(anchor), paragraph)


def setup(app: Sphinx) -> dict:
    app.add_transform(CodeBlockTags)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
