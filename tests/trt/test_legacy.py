"""demos.trt.legacy: the TensorRT 10 calibrator's cache is keyed to its network and version; cache headers.

The calibrator class is built on a stand-in for ``trt.IInt8EntropyCalibrator2`` (its Python trampoline only
needs ``__init__``); the calls are the ones TensorRT makes during a build: read_calibration_cache first,
get_batch until None, write_calibration_cache at the end.
"""

from __future__ import annotations

import types

import pytest

from demos.resnet50 import qdq
from demos.trt import legacy, loader


class _Base:
    def __init__(self):
        pass


TRT10 = types.SimpleNamespace(__name__="tensorrt", __version__="10.16.1.11", IInt8EntropyCalibrator2=_Base)


@pytest.fixture
def onnx_pair(tmp_path):
    a, b = tmp_path / "a.onnx", tmp_path / "b.onnx"
    a.write_bytes(b"model a")
    b.write_bytes(b"model b")
    return a, b


def _calibrate(onnx_path, cache, version="10.16.1.11"):
    """What a TensorRT build does with the calibrator: returns (cache bytes given to TensorRT, calibrator)."""
    key = legacy.cache_key(onnx_path, version, 8)
    calib = legacy.make_calibrator(TRT10, iter([]), 8, cache, key)
    data = calib.read_calibration_cache()
    if data is None:  # TensorRT calibrates, then hands its cache over
        calib.write_calibration_cache(f"TRT-{legacy.version_code(version)}-EntropyCalibration2\nx: 3c000000\n".encode())
    return data, calib


def test_cache_is_reused_only_for_the_same_network_and_version(onnx_pair, tmp_path):
    a, b = onnx_pair
    cache = tmp_path / "calib.cache"
    first, calib = _calibrate(a, cache)
    assert first is None and calib.cache_status == "no cache yet" and cache.is_file()
    again, calib = _calibrate(a, cache)
    assert again == cache.read_bytes() and calib.cache_status == "reused"
    other_model, calib = _calibrate(b, cache)  # was: model a's scales handed to model b's build
    assert other_model is None and "another onnx_sha256" in calib.cache_status
    other_version, calib = _calibrate(b, cache, "10.8.0.43")
    assert other_version is None and "another tensorrt_version" in calib.cache_status


def test_a_cache_without_its_key_file_is_not_trusted(onnx_pair, tmp_path):
    a, _ = onnx_pair
    cache = tmp_path / "old.calib.cache"
    cache.write_text("TRT-100000-EntropyCalibration2\nx: 3c000000\n")
    data, calib = _calibrate(a, cache)
    assert data is None and "has no key file" in calib.cache_status


def test_version_codes_follow_nv_tensorrt_version():
    assert legacy.version_code("10.16.1.11") == 101601
    assert legacy.version_code("10.0.1") == 100001
    assert legacy.version_code("8.6.1") == 8601  # ModelOpt's example header: TRT-8501-EntropyCalibration2
    assert legacy.cache_header("10.16.1.11") == "TRT-101601-EntropyCalibration2"


def test_qdq_caches_name_the_real_version_or_none(monkeypatch):
    # D16: the header was TRT-100000 (10.0.0) whatever TensorRT was there.
    monkeypatch.setattr(loader, "available", lambda: True)
    monkeypatch.setattr(loader, "tensorrt", lambda: TRT10)
    assert qdq.calibration_cache_text({"x": 1.0}).splitlines()[0] == "TRT-101601-EntropyCalibration2"
    monkeypatch.setattr(loader, "available", lambda: False)
    text = qdq.calibration_cache_text({"x": 12.7})
    assert text.splitlines()[0] == "TRT-0-EntropyCalibration2"
    assert qdq.parse_calibration_cache(text) == pytest.approx({"x": 12.7})
