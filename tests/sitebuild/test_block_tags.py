"""Code-block tags (``# requires:``, ``# trt-api:``, ``# test: run``) are for the tests: the rendered pages
leave them out and say in words, in both languages, which blocks were not run (B17).  The tools that read
the tags read the sources, so they keep finding them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from docutils import nodes

import block_tags  # docs/_ext (conftest puts it on the path)
from paddle_style_guide.trt_api import blocks

ROOT = Path(__file__).resolve().parents[2]
TAG_LINE = re.compile(r"^\s*#\s*(requires|trt-api|test)\s*:", re.M)
CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.mark.parametrize(
    "tags, note",
    [
        ({"requires": "tensorrt"}, "Needs TensorRT and an NVIDIA GPU: not run when this site was built."),
        ({"requires": "tensorrt, gpu"}, "Needs TensorRT and an NVIDIA GPU: not run when this site was built."),
        ({"requires": "tensorrt", "trt-api": "10"},
         "Needs TensorRT 10 and an NVIDIA GPU: not run when this site was built."),
        ({"requires": "tensorrt", "trt-api": "7"},
         "Old code (TensorRT 7), shown for comparison: not run when this site was built."),
        ({"requires": "gpu"}, "Needs a CUDA GPU: not run when this site was built."),
        ({"requires": "context"}, "Continues the block above: not run when this site was built."),
        ({"test": "run"}, None),
        ({"trt-api": "10, 11"}, None),
    ],
)
def test_note_says_what_a_block_needs(tags, note):
    assert block_tags.note_for(tags) == note


def test_strip_tags_keeps_the_code_and_its_emphasized_lines():
    code = "# requires: tensorrt\n# trt-api: 10\n\n# build it\nimport tensorrt as trt\nprint(trt)"
    block = nodes.literal_block(code, code)
    block["highlight_args"] = {"hl_lines": [5, 6]}
    assert block_tags.strip_tags(block) == {"requires": "tensorrt", "trt-api": "10"}
    assert block.astext() == "# build it\nimport tensorrt as trt\nprint(trt)"
    assert block["highlight_args"]["hl_lines"] == [2, 3]
    untagged = nodes.literal_block("# just a comment\nx = 1", "# just a comment\nx = 1")
    assert block_tags.strip_tags(untagged) is None and untagged.astext() == "# just a comment\nx = 1"


def test_the_tools_still_read_the_tags_from_the_sources():
    found = blocks.extract(ROOT / "docs" / "migration.md")[0]
    assert sum("requires" in b.tags for b in found) >= 8
    assert any(b.tags.get("trt-api") == "7" for b in found)
    assert any(b.lang == "shell" and b.runnable for b in found)


# --- The built site ---------------------------------------------------------------------------------------

PAGES = ["docs/migration", "docs/check-setup", "docs/auto_gallery/resnet50/plot_resnet50_walkthrough"]


@pytest.mark.parametrize("language", ["en", "zh_CN"])
@pytest.mark.parametrize("page", PAGES, ids=[p.rsplit("/", 1)[1] for p in PAGES])
def test_rendered_code_shows_no_tags(html_root, language, page):
    from bs4 import BeautifulSoup

    html = BeautifulSoup((html_root / language / f"{page}.html").read_text(encoding="utf-8"), "html.parser")
    code = [div.get_text() for div in html.select("div.highlight")]
    assert code and not any(TAG_LINE.search(text) for text in code), page
    # Each of these pages has a shell block that the tests run; they find it by its class.
    tested = html.select(f"div.{block_tags.TESTED_CLASS}")
    assert len(tested) == 1 and tested[0].get_text().startswith("$ python -m "), page


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_blocks_not_run_carry_a_note_in_the_page_language(html_root, language):
    from bs4 import BeautifulSoup

    html = BeautifulSoup((html_root / language / "docs/migration.html").read_text(encoding="utf-8"),
                         "html.parser")
    notes = html.select(f"p.{block_tags.NOTE_CLASS}")
    source_blocks = [b for b in blocks.extract(ROOT / "docs" / "migration.md")[0] if b.requires]
    assert len(notes) == len(source_blocks) >= 8
    for note in notes:
        following = note.find_next_sibling()
        assert following is not None and following.select_one("div.highlight") is not None \
            or "highlight" in " ".join(following.get("class", [])), note
        text = note.get_text()
        if language == "en":
            assert text.endswith("not run when this site was built.")
        else:
            assert CJK.search(text) and "not run" not in text, text
    tested = html.select(f"div.{block_tags.TESTED_CLASS}")
    assert len(tested) == 1 and "python -m paddle_style_guide.trt_api migration" in tested[0].get_text()
