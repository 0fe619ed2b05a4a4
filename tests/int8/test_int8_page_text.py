"""What the INT8 page says, checked against the code and data it describes (review items A11, C18, C19)."""

from __future__ import annotations

import re
from pathlib import Path

from demos import files
from demos.resnet50 import calib_study

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "gallery/int8/plot_int8_ptq.py"


def narrative() -> str:
    """The page's prose (docstring and comment lines), joined into one line of words."""
    return " ".join(line.lstrip("#").strip() for line in PAGE.read_text(encoding="utf-8").splitlines())


def test_layer_role_reads_timm_names():
    assert calib_study.layer_role("blocks.5.3.conv_pwl") == "the projection convolution of block 5.3"
    assert calib_study.layer_role("blocks.0.0.conv_dw") == "the depthwise convolution of block 0.0"
    assert calib_study.layer_role("conv_stem") == "the stem convolution"
    assert calib_study.layer_role("classifier") == "the classifier"
    assert calib_study.layer_role("node_add_198") == "node_add_198"


def test_sensitivity_leaders_are_read_from_the_study_not_written_in_prose():
    """A11: the prose named 'the projection convolution of the last block' while the data's leader was
    blocks.5.3.conv_pwl (the last block is blocks.6.0); the page now prints the leaders from the JSON."""
    rows = files.read_json(calib_study.RESULT, "calibration study")["sensitivity"]["rows"]
    leader = max(rows, key=lambda r: r["rel_l2_vs_fp32"])["layers"][0]
    text = narrative()
    assert "last block" not in text
    assert calib_study.layer_role(leader) not in text, "the leader's name belongs in the output, read from data"
    assert "calib_study.layer_role(r['layers'][0])" in PAGE.read_text(encoding="utf-8")


def test_tensorrt_agreement_is_an_expectation_with_the_command_to_check_it():
    """C18: nothing on this machine ran TensorRT, so its agreement with ONNX Runtime is stated as an
    expectation, with a Polygraphy command (valid for Polygraphy's own parser) that checks it on a GPU."""
    from demos.debugging import cli_flags, polygraphy_cli

    text = narrative()
    assert "ONNX Runtime gives TensorRT's accuracy" not in text
    assert "an expectation, not a measurement" in text
    command = re.search(r"``polygraphy (run [^`]+--trt[^`]+)``", text)[1]
    assert "--onnxrt" in command and "ORT_DISABLE_ALL" in command
    assert cli_flags.check_polygraphy(command.split(), polygraphy_cli.parser()) == []


def test_onnx_runtime_basic_optimizations_carry_the_bias_caveat():
    """C19: basic optimizations already store Conv biases as saturated int32; the intro says so."""
    intro = PAGE.read_text(encoding="utf-8").split('"""')[1]
    assert "executes each Q/DQ model as written" not in intro
    assert "Conv bias is stored as int32" in " ".join(intro.split())


def test_ptq_range_files_are_not_presented_as_tensorrt_caches():
    """A2: the ptq stage's int8_<method>.calib.cache files hold the Q/DQ activations' amax only, under a header
    with version 0 where no TensorRT is installed; TensorRT 10 builds read the cache TensorRT wrote."""
    from demos.resnet50 import qdq
    from demos.trt import legacy

    walkthrough = ROOT / "gallery/resnet50/plot_resnet50_walkthrough.py"
    for page in (PAGE, walkthrough):
        text = " ".join(line.lstrip("#").strip() for line in page.read_text(encoding="utf-8").splitlines())
        assert "can be reused by TensorRT 10 builds" not in text and "the TensorRT 10 legacy calibrator reads" not in text
        assert "not a cache for TensorRT" in text and "or 0 where none is installed" in text, page.name
        assert "``trt10_entropy.calib.cache``" in text, page.name
    assert qdq.calibration_cache_text({"x": 1.0}, legacy.cache_header("")).startswith("TRT-0-")
