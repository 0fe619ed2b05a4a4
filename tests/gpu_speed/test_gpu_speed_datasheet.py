"""Datasheet and MLPerf reference tables: internally consistent, sourced, and matched to the right GPUs."""

import pytest

from demos.gpu_speed import datasheet, mlperf
from demos.gpu_speed.datasheet import DATASHEETS, match_gpu


@pytest.mark.parametrize("gpu", sorted(DATASHEETS))
def test_dense_peaks_follow_the_sparsity_footnote(gpu):
    sheet = DATASHEETS[gpu]
    for dtype in datasheet.DTYPES:
        printed = sheet.printed[dtype]
        expected = printed / 2 if dtype in sheet.sparse_as_printed else printed
        assert sheet.dense_peak(dtype) == pytest.approx(expected)
    assert "fp32" not in sheet.sparse_as_printed  # CUDA-core FP32 has no sparse mode


@pytest.mark.parametrize("gpu", sorted(DATASHEETS))
def test_each_halving_of_the_input_width_doubles_the_tensor_core_rate(gpu):
    sheet = DATASHEETS[gpu]
    assert sheet.dense_peak("fp16") == sheet.dense_peak("bf16")
    assert sheet.dense_peak("fp16") == pytest.approx(2 * sheet.dense_peak("tf32"), rel=2e-3)
    assert sheet.dense_peak("fp8_e4m3") == pytest.approx(2 * sheet.dense_peak("fp16"), rel=2e-3)
    assert sheet.dense_peak("int8") == sheet.dense_peak("fp8_e4m3")
    assert sheet.dense_peak("fp8_e4m3_fast_accum") == sheet.dense_peak("fp8_e4m3")
    assert sheet.ridge_point("fp16") == pytest.approx(sheet.dense_peak("fp16") / sheet.memory_bandwidth_tbps)


def test_h200_is_an_h100_with_faster_memory():
    h100, h200 = DATASHEETS["H100 SXM"], DATASHEETS["H200 SXM"]
    assert h100.printed == h200.printed
    assert h200.memory_bandwidth_tbps > h100.memory_bandwidth_tbps
    assert h200.memory_gb > h100.memory_gb


def test_every_value_has_an_nvidia_source():
    for sheet in DATASHEETS.values():
        assert sheet.source.startswith("https://www.nvidia.com/")
        assert sheet.cross_checked and all(url.startswith("https://") for url in sheet.cross_checked)


@pytest.mark.parametrize("name, sms, expected", [
    ("NVIDIA H100 80GB HBM3", 132, "H100 SXM"),
    ("NVIDIA H100 SXM5 80GB", None, "H100 SXM"),
    ("NVIDIA H200", 132, "H200 SXM"),
    ("NVIDIA H200", None, "H200 SXM"),
    ("NVIDIA H100 PCIe", 114, None),
    ("NVIDIA H100 NVL", 132, None),
    ("NVIDIA H200 NVL", 132, None),
    ("NVIDIA GH200 480GB", 132, None),
    ("NVIDIA H200", 114, None),  # a MIG slice or a cut-down part: not the datasheet's GPU
    ("NVIDIA A100-SXM4-80GB", 108, None),
    ("", None, None),
    (None, None, None),
])
def test_match_gpu_only_matches_sxm_boards(name, sms, expected):
    sheet = match_gpu(name, sms)
    assert (sheet.gpu if sheet else None) == expected


def test_mlperf_references_are_per_gpu_and_sourced():
    assert {r.gpu for r in mlperf.RESNET50_OFFLINE} <= set(DATASHEETS)
    for ref in mlperf.RESNET50_OFFLINE:
        assert ref.per_gpu == pytest.approx(ref.samples_per_second / ref.gpus)
        assert f"inference_results_{ref.round}/" in ref.source and ref.source.endswith("mlperf_log_summary.txt")
        assert "resnet50/Offline" in ref.source
        assert f"inference_results_{ref.round}/" in ref.system_description
        assert ref.precision == "INT8"
    assert mlperf.for_gpu("H200 SXM").gpu == "H200 SXM"
    assert mlperf.for_gpu("A100") is None
