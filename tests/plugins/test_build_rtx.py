"""TensorRT-RTX parses the exported model, creates the plugin from the ONNX node and builds a plan (CPU).

Every build-time method of the plugin runs inside the real builder here; only ``enqueue`` needs a GPU.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap

import onnx
import pytest

from demos.errors import UserError
from demos.plugins import onnx_export
from demos.plugins.build import build_in_child
from demos.plugins.fields import EFFICIENTNET_LITE
from demos.trt import rtx

from .conftest import SMALL_PROFILE

pytestmark = pytest.mark.slow

BUILD_TIME_METHODS = {"create_plugin", "get_output_data_types", "get_output_shapes", "supports_format_combination",
                      "configure_plugin", "get_workspace_size", "get_valid_tactics", "get_fields_to_serialize", "clone"}


def test_plan_is_built_with_the_plugin_layer(stem_build):
    report, plan = stem_build
    assert report["tensorrt"]["product"] == "TensorRT-RTX"
    assert plan.is_file() and plan.stat().st_size == report["plan"]["bytes"] > 0
    assert hashlib.sha256(plan.read_bytes()).hexdigest() == report["plan"]["sha256"]
    types = [layer["type"] for layer in report["network"]["layers"]]
    assert types[:3] == ["CAST", "PLUGIN_V3", "CONVOLUTION"]
    [image] = report["network"]["inputs"]
    assert image["dtype"] == "UINT8" and image["shape"] == [-1, -1, -1, 3]
    [output] = report["network"]["outputs"]
    assert output["dtype"] == "FLOAT" and output["shape"][:2] == [-1, 64]


def test_builder_called_every_build_time_method(stem_build):
    report, _ = stem_build
    calls = report["plugin_calls"]
    assert BUILD_TIME_METHODS <= set(calls), sorted(BUILD_TIME_METHODS - set(calls))
    assert "enqueue" not in calls  # nothing runs on a CPU-only machine


def test_plan_holds_the_serialized_fields(stem_build):
    report, _ = stem_build
    assert report["plan"]["contains_fields"] == {"mean": True, "std": True, "out_dtype": True}
    assert report["plan"]["contains_plugin_name"]


def test_float16_efficientnet_variant_builds(workdir):
    model = onnx_export.WithPreprocess(onnx_export.resnet_stem().half(), EFFICIENTNET_LITE.with_out_dtype("float16"))
    path = onnx_export.export(model, workdir / "stem16.onnx")
    report = build_in_child(path, profile=SMALL_PROFILE)
    assert report["network"]["outputs"][0]["dtype"] == "HALF"
    assert report["plugin"]["fields"] == EFFICIENTNET_LITE.with_out_dtype("float16").describe()
    assert all(report["plan"]["contains_fields"].values())


def _without_cast(stem_onnx, workdir):
    model = onnx.load(str(stem_onnx))
    model.graph.node[1].input[0] = model.graph.input[0].name
    del model.graph.node[0]
    path = workdir / "uint8_into_plugin.onnx"
    onnx.save(model, str(path))
    return path


def test_uint8_input_is_refused_with_a_clear_message(stem_onnx, workdir):
    path = _without_cast(stem_onnx, workdir)
    with pytest.raises(UserError, match="insert a Cast to float16"):
        build_in_child(path, profile=SMALL_PROFILE)


def test_plugin_callbacks_refuse_it_too_when_python_checks_are_skipped(stem_onnx, workdir):
    # The second line of defence: the plugin's own get_output_data_types, inside TensorRT's parser.
    path = _without_cast(stem_onnx, workdir)
    with pytest.raises(UserError) as info:
        build_in_child(path, profile=SMALL_PROFILE, onnx_checks=False)
    assert "get_output_data_types" in str(info.value) and "insert a Cast to float16" in str(info.value)


def test_build_without_the_symlink_says_what_is_missing(stem_onnx):
    env = {k: v for k, v in os.environ.items() if k not in ("LD_LIBRARY_PATH", "DEMOS_TRT_RTX_REEXEC")}
    if rtx.parser_can_load(env):
        pytest.skip("libtensorrt_rtx.so is loadable without LD_LIBRARY_PATH on this machine")
    proc = subprocess.run([sys.executable, "-m", "demos.plugins", "build", "--onnx", str(stem_onnx), "--no-reexec"],
                          env=env, capture_output=True, text=True, cwd=rtx.REPO_ROOT, timeout=300)
    assert proc.returncode == 3
    assert proc.stderr.strip().splitlines()[-1].startswith("error: TensorRT-RTX's ONNX parser cannot load libtensorrt_rtx.so")


def test_the_catch_itself_parser_aborts_without_the_unversioned_library(stem_onnx):
    # What happens without the helper: no exception, no message, the process just dies. If this ever
    # stops failing, TensorRT-RTX ships libtensorrt_rtx.so and demos.trt.rtx can go.
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    if rtx.parser_can_load(env):
        pytest.skip("libtensorrt_rtx.so is loadable without LD_LIBRARY_PATH on this machine")
    code = textwrap.dedent(f"""
        from demos.plugins import v3
        v3.register_creator()
        trt = v3.trt
        logger = trt.Logger(trt.Logger.ERROR)
        network = trt.Builder(logger).create_network(0)
        trt.OnnxParser(network, logger).parse(open({str(stem_onnx)!r}, "rb").read())
        print("parsed")
    """)
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          cwd=rtx.REPO_ROOT, timeout=300)
    assert proc.returncode != 0 and "parsed" not in proc.stdout
    assert "terminate called without an active exception" in proc.stderr


def test_rtx_link_helper(tmp_path, monkeypatch):
    monkeypatch.setenv("TRT_RTX_LINK_DIR", str(tmp_path / "lib"))
    folder = rtx.ensure_link()
    link = folder / rtx.UNVERSIONED
    assert link.is_symlink() and link.resolve() == (rtx.libs_dir() / rtx.VERSIONED).resolve()
    assert rtx.ensure_link() == folder  # idempotent
    env = rtx.child_env({"LD_LIBRARY_PATH": "/opt/other"})
    assert env["LD_LIBRARY_PATH"].split(os.pathsep) == [str(folder), "/opt/other"]
    assert rtx.parser_can_load(env)
    link.unlink()
    link.symlink_to(tmp_path / "nowhere.so")  # a dangling link is repaired
    assert rtx.ensure_link() == folder and link.resolve() == (rtx.libs_dir() / rtx.VERSIONED).resolve()
