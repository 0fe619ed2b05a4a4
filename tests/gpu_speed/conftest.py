"""Result documents shared by the gpu_speed tests: structurally complete, with arbitrary numbers (inputs for
the code under test, not results)."""

import pytest

from demos.gpu_speed import alignment, latency


def _lat(p50, p99):
    return {"p50": p50, "p90": (p50 + p99) / 2, "p99": p99, "min": 0.9 * p50, "mean": p50 * 1.05, "max": p99 * 1.1}


def _rec(config, batch, p50, p99, ips):
    return {"config": config, "batch": batch, "latency_ms": _lat(p50, p99), "gpu_ms": _lat(0.8 * p50, 0.9 * p99),
            "throughput_images_per_s": ips, "samples": 400,
            "check": {"passed": True, "rel_l2_vs_float64": 1e-4, "tolerance": 1e-3}}


@pytest.fixture
def latency_doc():
    """A structurally complete document; its times are arbitrary inputs for the code, not results."""
    return {
        "schema": latency.SCHEMA,
        "provenance": {"date": "2026-12-05T00:00:00+00:00", "versions": {"torch": "2.11.0"},
                       "gpu": {"name": "NVIDIA H100 80GB HBM3", "sm_count": 132, "driver": "580", "torch_cuda": "13.0",
                               "memory_gib": 79.2}},
        "settings": {"device": "cuda", "image_size": 224, "seed": 0},
        "records": [_rec("fp32_eager", 1, 6.0, 7.0, 170.0), _rec("fp16_eager", 1, 4.0, 5.0, 260.0),
                    _rec("fp16_cuda_graph", 1, 1.0, 1.2, 1100.0), _rec("fp16_cuda_graph", 8, 1.6, 1.9, 5200.0),
                    _rec("fp16_cuda_graph", 256, 20.0, 21.0, 13000.0),
                    {"config": "fp16_compile", "batch": 1, "error": "BackendCompilerFailed: x"}],
    }


def _layer(op, dtype, c, tflops=None, padded_to=None, error=None):
    rec = {"op": op, "dtype": dtype, "channels": c, "padded_to": padded_to, "align": alignment.ALIGN[dtype],
           "aligned": alignment.aligned(c, dtype), "flops": alignment.useful_flops(op, c, 256, 56)}
    if error:
        return {**rec, "error": error}
    median = rec["flops"] / tflops / 1e12
    return {**rec, "median_s": median, "min_s": median * 0.95, "tflops": tflops,
            "best_tflops": rec["flops"] / (median * 0.95) / 1e12, "check": {"passed": True, "rel_err": 0.0}}


@pytest.fixture
def alignment_doc():
    """Arbitrary rates as inputs for the code, not results."""
    return {"schema": alignment.SCHEMA,
            "provenance": {"date": "2026-12-05T00:00:00+00:00", "versions": {"torch": "2.11.0"},
                           "gpu": {"name": "NVIDIA H100 80GB HBM3", "sm_count": 132}},
            "settings": {"device": "cuda", "channels": [63, 64, 65, 72]},
            "records": [_layer("gemm", "int8", 63, error="RuntimeError: self.size(1) needs to be a multiple of 8"),
                        _layer("gemm", "int8", 63, 90.0, padded_to=64), _layer("gemm", "int8", 64, 100.0),
                        _layer("gemm", "int8", 72, 60.0), _layer("gemm", "int8", 72, 95.0, padded_to=80),
                        _layer("gemm", "int8", 80, 120.0),
                        _layer("conv3x3", "fp16", 63, 20.0), _layer("conv3x3", "fp16", 63, 50.0, padded_to=64),
                        _layer("conv3x3", "fp16", 64, 80.0)]}
