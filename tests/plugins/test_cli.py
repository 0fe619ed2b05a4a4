"""The command line: one-line errors with a non-zero exit, never a traceback, for user mistakes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import onnx
import pytest
from onnx import helper

REPO = Path(__file__).resolve().parents[2]


def _run(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "demos.plugins", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


def _one_line_error(proc, text):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and text in lines[-1]
    assert "Traceback" not in proc.stderr


def test_build_refuses_a_missing_file(tmp_path):
    _one_line_error(_run("build", "--onnx", str(tmp_path / "nope.onnx")), "ONNX model not found")


def test_build_refuses_a_file_that_is_not_onnx(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00\x01 definitely not protobuf \xff" * 10)
    _one_line_error(_run("build", "--onnx", str(bad)), "is not a valid ONNX file")


def test_build_refuses_a_model_without_the_plugin(tmp_path):
    node = helper.make_node("Relu", ["x"], ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3])],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 3])])
    path = tmp_path / "relu.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    _one_line_error(_run("build", "--onnx", str(path)), "has no PreprocessNHWC node")


@pytest.mark.parametrize("shape, message", [("8x224", "must look like NxHxW"), ("axbxc", "must look like NxHxW"),
                                            ("0x224x224", "must be positive")])
def test_build_refuses_bad_profile_shapes(tmp_path, shape, message):
    _one_line_error(_run("build", "--onnx", str(tmp_path / "x.onnx"), "--opt", shape), message)


def test_export_writes_nothing_when_it_fails(tmp_path):
    proc = _run("export", "--out", str(tmp_path / "m.onnx"), "--out-dtype", "bfloat16")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
    assert not list(tmp_path.iterdir())
