"""Fast checks of the pieces: split, scales, calibration cache format, statistics, comparisons."""

from __future__ import annotations

import numpy as np
import pytest

from demos import data
from demos.gpu_speed import datasheet, mlperf
from demos.resnet50 import bench, evaluate, qdq


def test_split_is_deterministic_disjoint_and_class_mixed():
    if not (data.SAMPLES / "labels.csv").is_file():
        pytest.skip("no sample images")
    items = data.discover(data.SAMPLES)
    calib = data.split(items, "calibration")
    evals = data.split(items, "evaluation")
    assert {i.rel for i in calib}.isdisjoint({i.rel for i in evals})
    assert len(calib) + len(evals) == len(items) == 1000
    assert 150 < len(calib) < 250  # 1 in 5 by path hash
    assert [i.rel for i in data.split(items, "evaluation", 50)] == [i.rel for i in evals[:50]]
    labels = [i.label for i in evals[:50]]
    assert len(set(labels)) == 50 and max(labels) - min(labels) > 500  # not just the first classes


def test_imagenet_val_layout(tmp_path):
    from PIL import Image

    for wnid in ("n01440764", "n01443537"):
        (tmp_path / wnid).mkdir()
        Image.new("RGB", (32, 32)).save(tmp_path / wnid / "x.JPEG")
    items = data.discover(tmp_path)
    assert sorted((i.rel, i.label) for i in items) == [("n01440764/x.JPEG", 0), ("n01443537/x.JPEG", 1)]


def test_qdq_scale_roundtrip():
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes = [helper.make_node("QuantizeLinear", ["x", "x_scale", "x_zp"], ["xq"]),
             helper.make_node("DequantizeLinear", ["xq", "x_scale", "x_zp"], ["y"])]
    inits = [numpy_helper.from_array(np.float32(0.5), "x_scale"), numpy_helper.from_array(np.int8(0), "x_zp")]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])], inits)
    model = helper.make_model(g)
    assert qdq.read_amax(model) == {"x": pytest.approx(63.5)}
    report = qdq.write_amax(model, {"x": 12.7, "other": 1.0})
    assert report == {"written": 1, "kept": []}
    assert qdq.read_amax(model)["x"] == pytest.approx(12.7)
    assert numpy_helper.to_array(model.graph.initializer[0]).dtype == np.float32
    text = qdq.calibration_cache_text({"x": 12.7, "y": 3.0})
    assert text.startswith("TRT-") and qdq.parse_calibration_cache(text) == pytest.approx({"x": 12.7, "y": 3.0})
    with pytest.raises(Exception, match="not a TensorRT calibration cache"):
        qdq.parse_calibration_cache("hello\nx: 00")
    onnx.checker.check_model(model)


def test_percentile_matches_numpy():
    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 100):
        v = rng.standard_normal(n).tolist()
        for q in (0, 50, 90, 99, 100):
            assert bench.percentile(v, q) == pytest.approx(float(np.percentile(v, q)))


def test_gpu_comparison_with_mlperf_and_ceiling():
    results = [{"backend": "torch-cuda", "variant": "fp16_cl", "dtype": "fp16", "batch": 256, "images_per_s": 16_000.0},
               {"backend": "torch-cuda", "variant": "fp16_cl_compile_cg_frozen", "dtype": "fp16", "batch": 256,
                "images_per_s": 31_000.0}]
    c = bench.gpu_comparison(results, "NVIDIA H200", 132)
    assert c["best_config"] == "fp16_cl_compile_cg_frozen"
    # The MLPerf and datasheet figures are the ones the speed page uses (one source of truth).
    h200 = mlperf.for_gpu("H200 SXM")
    assert c["ratio_to_mlperf"] == pytest.approx(31_000 / h200.per_gpu)
    assert c["mlperf_round"] == h200.round
    assert c["achieved_tflops"] == pytest.approx(31_000 * 8.2 / 1e3)
    assert c["ceiling_images_per_s"]["fp16"] == pytest.approx(datasheet.DATASHEETS["H200 SXM"].dense_peak("fp16") * 1e3 / 8.2)
    assert c["ceiling_images_per_s"]["fp16"] == pytest.approx(1979.0 / 2 * 1e3 / 8.2)
    h100 = bench.gpu_comparison(results, "NVIDIA H100 80GB HBM3", 132)
    assert h100["mlperf_tensorrt_int8_images_per_s"] == round(mlperf.for_gpu("H100 SXM").per_gpu)
    # A PCIe board is not compared with SXM figures.
    assert "ratio_to_mlperf" not in bench.gpu_comparison(results, "NVIDIA H100 PCIe", 114)


def test_metrics():
    logits = np.array([[0, 3, 1], [5, 0, 1], [0, 0, 9]], np.float32)
    labels = np.array([1, 2, 2])
    m = evaluate.metrics(logits, labels, logits, real_weights=True)
    assert m.top1 == pytest.approx(2 / 3) and m.top5 == 1.0 and m.agreement == 1.0 and m.rel_l2 == 0.0
    r = evaluate.metrics(logits, labels, logits * 2, real_weights=False)
    assert r.top1 is None and r.top5 is None and r.rel_l2 == pytest.approx(0.5)


def test_local_resnet_matches_torchvision():
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    from demos.local_resnet import resnet50

    ref = torchvision.models.resnet50().eval()
    local = resnet50().eval()
    assert list(local.state_dict()) == list(ref.state_dict())
    local.load_state_dict(ref.state_dict())
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(local(x), ref(x))


def test_bench_falls_back_without_torchvision(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "torchvision", None)
    from demos import models

    model, spec = models.build("resnet50", "random")
    assert "local ResNet50 definition" in spec.notes[0] and not spec.real_weights
    assert type(model).__module__ == "demos.local_resnet"


def test_cpu_form_overflow_guard_selects_layers():
    """7-bit weights only where a uint8 input can exceed 127 (ORT's int16 pair sums without VNNI)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from demos.resnet50 import cpu_int8

    w = numpy_helper.from_array(np.ones((4, 4, 1, 1), np.float32), "w")
    w2 = numpy_helper.from_array(np.ones((4, 4, 1, 1), np.float32), "w2")
    lo, hi = numpy_helper.from_array(np.float32(0), "lo"), numpy_helper.from_array(np.float32(6), "hi")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"]), helper.make_node("Clip", ["c", "lo", "hi"], ["r6"]),
             helper.make_node("Conv", ["r6", "w2"], ["y"])]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 2, 2])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 2, 2])], [w, w2, lo, hi])
    model = helper.make_model(g)
    amax = {"x": 2.0, "c": 8.0, "r6": 6.0, "y": 3.0}
    ov = cpu_int8.trt_scales_overrides(model, amax)
    assert int(ov["x"][0]["zero_point"]) == 128 and int(ov["r6"][0]["zero_point"]) == 0
    assert float(ov["c"][0]["scale"]) == pytest.approx(6.0 / 127)  # the Clip input shares the output's scale
    assert cpu_int8._bounded_clip_outputs(model, amax) == {"r6"}
    assert set(cpu_int8._dense_conv_weight_overrides(model, {"x"})) == {"w"}


def test_modelopt_nvml_error_becomes_one_note(eff, monkeypatch, capfd):
    """ModelOpt 0.47 logs ERROR 'Failed to get GPU count' on machines without an NVIDIA driver, then calibrates
    on the CPU; ``ptq`` swallows that line through demos.quiet, prints one note instead (once per stage run),
    and leaves ModelOpt's logger as it was."""
    import logging
    import shutil

    import modelopt.onnx.quantization as moq
    from modelopt.onnx.logging_config import logger

    from demos import quiet
    from demos.resnet50 import ptq

    def fake_quantize(path, output_path, **kwargs):  # what ModelOpt does on a CPU-only machine, minus the work
        logger.error("Failed to get GPU count: NVML Shared Library Not Found")
        logger.error("an unrelated error stays visible")
        shutil.copyfile(path, output_path)

    monkeypatch.setattr(moq, "quantize", fake_quantize)
    quiet.reset_notes()  # what the stage does when it starts
    shown = []  # what ModelOpt's logger lets through to its handlers
    handler = logging.Handler()
    handler.emit = lambda record: shown.append(record.getMessage())
    filters = list(logger.filters)
    calib = np.zeros((2, 3, 224, 224), np.float32)
    logger.addHandler(handler)
    try:
        for _ in range(2):
            ptq.modelopt_quantize(eff.path("fp32.onnx"), eff.root / "nvml_check.onnx", calib, "max")
    finally:
        logger.removeHandler(handler)
    assert shown == ["an unrelated error stays visible"] * 2
    assert capfd.readouterr().out.count("note: ModelOpt found no NVIDIA driver") == 1
    assert logger.filters == filters
