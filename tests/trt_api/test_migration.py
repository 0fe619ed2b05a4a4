"""The migration table's TensorRT names are checked against the introspected wheels."""

import dataclasses
import subprocess
import sys

import pytest

from paddle_style_guide.trt_api import migration
from paddle_style_guide.trt_api.bindings import REPO_ROOT

PAGE = REPO_ROOT / "docs" / "migration.md"


@pytest.fixture(scope="module")
def rows():
    return migration.load()


def test_every_claim_in_the_table_holds(rows, surfaces):
    assert migration.verify(rows, surfaces) == []


def test_table_covers_the_issue_list(rows):
    text = " ".join(r.old for r in rows)
    for api in ("fp16_mode", "setHalf2Mode", "build_engine", "max_workspace_size", "implicit batch", "IPlugin",
                "IPluginV2DynamicExt", "UffParser", "CaffeParser", "IInt8EntropyCalibrator2", "set_dynamic_range",
                "QuantDescriptor", "quant_modules"):  # fmt: skip
        assert api in text, api
    assert all(r.sources for r in rows)


def test_a_package_outside_tensorrt_is_not_dated_like_a_tensorrt_api(rows):
    # pytorch-quantization never was a TensorRT API: the row says so, dates the package (not a TensorRT
    # deprecation) and links the release notes that announced it.
    [row] = [r for r in rows if r.id == "pytorch-quantization"]
    assert "separate package" in row.note and "package" in row.deprecated
    assert "10.2" in row.deprecated and not row.removed
    assert row.sources[0]["url"] == "https://github.com/NVIDIA/TensorRT/blob/release/10.2/CHANGELOG.md"


def test_each_row_is_verified_by_names(rows, surfaces):
    # Every row makes at least one checkable claim about TensorRT or an importable package.
    for row in rows:
        assert migration.expectations(row, ["10", "11"]) or row.check.get("python"), row.id


@pytest.mark.parametrize(
    "change, expected",
    [
        # claiming a removed name still exists
        (dict(trt11="Use `trt.BuilderFlag.FP16`"), "tensorrt.BuilderFlag.FP16 is absent from TensorRT 11.4.0.106"),
        # claiming a name that exists was removed
        (dict(check={"absent": ["tensorrt.Builder.build_serialized_network"]}),
         "tensorrt.Builder.build_serialized_network is present in TensorRT 10.16.1.11"),
        # a wrong deprecation version
        (dict(check={"present_10": ["tensorrt.IInt8EntropyCalibrator2"],
                     "deprecated_10": {"tensorrt.IInt8EntropyCalibrator2": "10.3"}}),
         "TensorRT 10.16.1.11 docstring says deprecated in 10.1, table says 10.3"),
        # "removed in 11" without evidence
        (dict(removed="11.0", old="`builder.build_serialized_network()`",
              check={"present": ["tensorrt.Builder.build_serialized_network"]}),
         "removed 11.0 but no name present in 10 and absent in 11 is listed"),
        # unofficial source
        (dict(sources=[{"url": "https://example.com/blog", "supports": "x"}]), "source needs an official url"),
    ],
)  # fmt: skip
def test_wrong_rows_are_caught(rows, surfaces, change, expected):
    row = dataclasses.replace(next(r for r in rows if r.id == "int8-entropy-calibrator"), **change)
    problems = migration.verify([row], surfaces)
    assert any(expected in p for p in problems), problems


def test_markdown_rendering(rows, surfaces):
    text = migration.render_markdown(rows)
    lines = text.splitlines()
    assert lines[0] == "| Old API | TensorRT 10 | TensorRT 11 / ModelOpt | Deprecated | Removed | Sources |"
    table = [line for line in lines if line.startswith("| ")]
    assert len(table) == len(rows) + 1
    assert all(line.count(" | ") == 5 for line in table)  # no stray pipes inside cells
    assert "| 10.1 | 11.0 |" in text and "[1](https://docs.nvidia.com/" in text
    # The provenance names exactly the TensorRT versions that test_every_claim... verifies against.
    labels = [s.label for s in surfaces.values() if s.module == "tensorrt"]
    assert lines[-1].startswith("Every TensorRT name in this table is checked against the Python binding wheels of ")
    assert all(label in lines[-1] for label in labels) and "TensorRT-RTX" not in lines[-1]
    assert "Every TensorRT name" not in migration.render_markdown(rows, provenance=False)


def test_the_page_shows_the_current_table(rows):
    # docs/migration.md commits the generated table (its cells are messages of the page's catalog);
    # after editing migration.toml run: python -m paddle_style_guide.trt_api migration --write docs/migration.md
    assert migration.page_table(PAGE.read_text(encoding="utf-8")) == migration.render_markdown(rows), (
        "docs/migration.md is out of date with migration.toml: run "
        "`python -m paddle_style_guide.trt_api migration --write docs/migration.md`, then update-po"
    )


def test_write_page_replaces_only_the_region(rows, tmp_path):
    page = tmp_path / "page.md"
    page.write_text(f"# Title\n\nBefore.\n\n{migration.BEGIN}\n\n| stale |\n\n{migration.END}\n\nAfter.\n")
    assert migration.write_page(page, rows)
    text = page.read_text()
    assert text.startswith("# Title\n\nBefore.\n\n") and text.endswith(f"\n\n{migration.END}\n\nAfter.\n")
    assert "| stale |" not in text and migration.page_table(text) == migration.render_markdown(rows)
    assert not migration.write_page(page, rows)  # idempotent
    assert not list(tmp_path.glob("*.tmp"))


def test_write_refuses_a_page_without_markers(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n")
    proc = subprocess.run([sys.executable, "-m", "paddle_style_guide.trt_api", "migration", "--write", str(page)],
                          capture_output=True, text=True, cwd=REPO_ROOT)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "% BEGIN migration table" in proc.stderr
    assert page.read_text() == "# Title\n"


@pytest.mark.slow
def test_modelopt_names_import(rows, surfaces):
    # Imports ModelOpt (and torch): slow, so only this test does it.
    assert migration.verify(rows, surfaces, import_python=True) == []
    assert not migration.python_name_exists("modelopt.torch.quantization.no_such_function")
