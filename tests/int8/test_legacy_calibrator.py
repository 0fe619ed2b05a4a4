"""The TensorRT 10 calibrator shown on the INT8 page: it works, it matches demos.trt.legacy, and its TensorRT
names are checked against TensorRT 10 (issue 17, item 2).

The code under test is read from the page's script, as a reader copies it from the rendered page.
TensorRT and a GPU are absent here, so TensorRT's base class is replaced by a plain class and the CUDA
buffer by a CPU tensor; everything the calibrator itself decides (batches, end of data, cache) is real.
"""

from __future__ import annotations

import ast
import hashlib
import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from demos.trt import legacy

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "gallery/int8/plot_int8_ptq.py"
FUNCTIONS = ("calibration_key", "make_entropy_calibrator", "build_implicit_int8_engine")


def page_functions() -> dict:
    tree = ast.parse(PAGE.read_text(encoding="utf-8"))
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in FUNCTIONS]
    assert sorted(d.name for d in defs) == sorted(FUNCTIONS), "the page defines the calibrator and its build"
    namespace = {"np": np, "Path": Path, "hashlib": hashlib, "json": json}
    exec(compile(ast.Module(defs, type_ignores=[]), str(PAGE), "exec"), namespace)
    return namespace


class _Base:
    def __init__(self):
        pass


FAKE_TRT10 = types.SimpleNamespace(__version__="10.16.1.11", IInt8EntropyCalibrator2=_Base)
# What both the page and the demo key a cache with (ONNX hash, TensorRT version, batch, algorithm).
KEY = {"onnx_sha256": "0" * 64, "tensorrt_version": "10.16.1.11", "batch_size": 8, "algorithm": legacy.ALGORITHM}


@pytest.fixture
def cpu_buffers(monkeypatch):
    """torch.empty_like(..., device="cuda") gives a CPU tensor: the copy and the pointer stay real."""
    import torch

    real = torch.empty_like
    monkeypatch.setattr(torch, "empty_like", lambda t, device=None, **kw: real(t, **kw))


def _drain(calibrator):
    calls = []
    while True:
        ptrs = calibrator.get_batch(["input"])
        if ptrs is None:
            return calls
        assert len(ptrs) == 1 and isinstance(ptrs[0], int)
        calls.append((ptrs[0], calibrator.device.numpy().copy()))


def test_page_calibrator_feeds_batches_like_the_demo(tmp_path, cpu_buffers):
    x = np.random.default_rng(0).standard_normal((20, 3, 8, 8)).astype(np.float32)
    page = page_functions()["make_entropy_calibrator"](
        FAKE_TRT10, (x[i:i + 8] for i in range(0, 20, 8)), 8, tmp_path / "page.cache", KEY)
    demo = legacy.make_calibrator(FAKE_TRT10, (x[i:i + 8] for i in range(0, 20, 8)), 8, tmp_path / "demo.cache")
    assert isinstance(page, _Base) and page.get_batch_size() == demo.get_batch_size() == 8
    got, want = _drain(page), _drain(demo)
    # Two full batches, then the short one (4 images) ends calibration, in both.
    assert len(got) == len(want) == 2 and page.seen == demo.seen == 16
    for (p_ptr, p_data), (_, d_data), ref in zip(got, want, (x[:8], x[8:16])):
        np.testing.assert_array_equal(p_data, ref)
        np.testing.assert_array_equal(d_data, ref)
    assert got[0][0] == got[1][0], "one device buffer, reused for every batch"
    assert page.get_batch(["input"]) is None  # stays exhausted


def test_page_key_is_the_demos_key(tmp_path):
    onnx_file = tmp_path / "m.onnx"
    onnx_file.write_bytes(b"not really a network, but hashed like one")
    page_key = page_functions()["calibration_key"](FAKE_TRT10, onnx_file, 8)
    assert page_key == legacy.cache_key(onnx_file, FAKE_TRT10.__version__, 8)


def test_page_calibrator_cache_round_trip_matches_the_demo(tmp_path, cpu_buffers):
    make = page_functions()["make_entropy_calibrator"]
    cache = b"TRT-101601-EntropyCalibration2\ninput: 3c010204\n"
    page = make(FAKE_TRT10, iter(()), 8, tmp_path / "page.cache", KEY)
    demo = legacy.make_calibrator(FAKE_TRT10, iter(()), 8, tmp_path / "demo.cache", KEY)
    assert page.read_calibration_cache() is None and demo.read_calibration_cache() is None  # calibrate
    page.write_calibration_cache(memoryview(cache))  # TensorRT hands over a buffer, not bytes
    demo.write_calibration_cache(memoryview(cache))
    assert (tmp_path / "page.cache").read_bytes() == (tmp_path / "demo.cache").read_bytes() == cache
    # Both write the key beside the cache, and leave no temporary behind.
    assert json.loads((tmp_path / "page.cache.json").read_text()) == json.loads(
        (tmp_path / "demo.cache.json").read_text()) == KEY
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.cache", "demo.cache.json", "page.cache",
                                                          "page.cache.json"]
    again = make(FAKE_TRT10, iter(()), 8, tmp_path / "page.cache", KEY)
    assert again.read_calibration_cache() == cache  # the next build skips calibration


@pytest.mark.parametrize("change", ["onnx_sha256", "tensorrt_version", "batch_size", "no key file",
                                    "corrupt key file"])
def test_page_calibrator_refuses_a_cache_of_another_build_like_the_demo(tmp_path, change):
    """A cache written for another network, TensorRT version or batch size (or without a readable key) is
    not handed to TensorRT, which would build with its scales without a word: both calibrate again."""
    make = page_functions()["make_entropy_calibrator"]
    cache = b"TRT-101601-EntropyCalibration2\ninput: 3c010204\n"
    for name in ("page.cache", "demo.cache"):
        (tmp_path / name).write_bytes(cache)
        side = tmp_path / f"{name}.json"
        if change == "corrupt key file":
            side.write_text("{not json")
        elif change != "no key file":
            side.write_text(json.dumps({**KEY, change: "something else"}))
    page = make(FAKE_TRT10, iter(()), 8, tmp_path / "page.cache", KEY)
    demo = legacy.make_calibrator(FAKE_TRT10, iter(()), 8, tmp_path / "demo.cache", KEY)
    assert page.read_calibration_cache() is None
    assert demo.read_calibration_cache() is None


def test_page_code_refuses_tensorrt_11(tmp_path, monkeypatch):
    funcs = page_functions()
    trt11 = types.SimpleNamespace(__version__="11.4.0", BuilderFlag=types.SimpleNamespace(FP16=None))
    with pytest.raises(RuntimeError, match="removed in TensorRT 11"):
        funcs["make_entropy_calibrator"](trt11, iter(()), 8, tmp_path / "c.cache", KEY)
    monkeypatch.setitem(sys.modules, "tensorrt", trt11)
    with pytest.raises(RuntimeError, match="no implicit quantization"):
        funcs["build_implicit_int8_engine"](tmp_path / "m.onnx", tmp_path / "m.plan", iter(()), 8, tmp_path / "c.cache")


def test_page_calibrator_is_checked_against_tensorrt_10(tmp_path):
    """The API checker covers the page's code: the page passes, a misspelled TensorRT 10 name fails."""
    from paddle_style_guide.trt_api import bindings, check

    surfaces = bindings.load_surfaces()
    assert check.check_paths([PAGE], surfaces=surfaces).problems == []
    broken = tmp_path / "gallery" / "plot_broken.py"
    broken.parent.mkdir()
    source = PAGE.read_text(encoding="utf-8")
    assert source.count("config.set_calibration_profile(profile)") == 1
    broken.write_text(source.replace("config.set_calibration_profile(profile)",
                                     "config.set_calibration_profil(profile)"), encoding="utf-8")
    problems = [str(p) for p in check.check_paths([broken], surfaces=surfaces).problems]
    assert any("set_calibration_profil" in p and "TensorRT 10" in p for p in problems), problems
    # Without its version guard, the calibrator's base class is reported as missing in TensorRT 11.
    unguarded = tmp_path / "gallery" / "plot_unguarded.py"
    unguarded.write_text(source.replace('    if not hasattr(trt, "IInt8EntropyCalibrator2"):', "    if False:"),
                         encoding="utf-8")
    problems = [str(p) for p in check.check_paths([unguarded], surfaces=surfaces).problems]
    assert any("IInt8EntropyCalibrator2" in p and "TensorRT 11" in p for p in problems), problems
