"""demos.trt.buffers and runtime.Engine's buffer handling, with a fake CUDA runtime and a fake engine.

The real thing runs in ``python -m demos.selfcheck`` on a GPU (the committed GPU result is checked in
tests/selfcheck); these tests pin the contracts that once crashed on an H100: the stream outlives the buffers
(D1), pycuda works in the primary context (D2), and engines with BF16/FP8/INT4 I/O get buffers (D6).
"""

from __future__ import annotations

import sys
import types

import ml_dtypes
import numpy as np
import pytest

from demos.errors import MissingRuntime, UserError
from demos.trt import buffers, dtypes, runtime

from . import fakes


@pytest.fixture
def cudart(monkeypatch):
    fake = fakes.FakeCudart()
    monkeypatch.setattr(buffers, "_cudart", lambda: fake)
    return fake


def test_fakes_match_cuda_python():
    real = pytest.importorskip("cuda.bindings.runtime")
    fake = fakes.FakeCudart()
    assert [n for n in fake.api_names() if not hasattr(real, n)] == []
    for kind in fakes.cudaMemcpyKind:
        assert hasattr(real.cudaMemcpyKind, kind.name)


def test_reallocating_keeps_the_stream(cudart):
    # D1: free() releases the memory on the stream and keeps the stream for the next allocate.
    b = buffers.CudaPythonBuffers()
    stream = b.stream_handle
    b.allocate("x", (2, 4), np.float32)
    b.upload("x", np.arange(8, dtype=np.float32).reshape(2, 4))
    b.free()
    b.allocate("x", (3, 4), np.float32)  # was: cudaMallocAsync on a destroyed stream
    b.upload("x", np.ones((3, 4), np.float32))
    assert np.array_equal(b.download("x"), np.ones((3, 4), np.float32))
    assert b.stream_handle == stream and cudart.streams[stream]
    b.close()
    assert cudart.streams[stream] is False and cudart.memory == {}
    assert [c[0] for c in cudart.calls].count("cudaStreamDestroy") == 1
    b.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        b.allocate("x", (1, 4), np.float32)


def test_engine_runs_two_batch_sizes_with_cuda_python_buffers(cudart):
    # D1 as a user met it: infer() at batch 2, then batch 3 (prepare re-allocates), on one stream.
    eng = runtime.Engine.attach(fakes.fake_trt(), fakes.FakeEngine(), buffers.CudaPythonBuffers())
    x2 = np.arange(8, dtype=np.float32).reshape(2, 4)
    x3 = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert np.array_equal(eng.infer(x2), 2 * x2)
    assert np.array_equal(eng.infer(x3), 2 * x3)
    assert np.array_equal(eng.infer(x3), 2 * x3)  # same shape: no re-allocation
    assert len(set(eng.context.streams)) == 1 and cudart.streams[eng.context.streams[0]]
    mallocs = [c for c in cudart.calls if c[0] == "cudaMallocAsync"]
    assert len(mallocs) == 4 and all(c[2] == eng.context.streams[0] for c in mallocs)
    eng.close()
    assert cudart.memory == {}


def test_engine_refuses_a_batch_outside_the_profile(cudart):
    eng = runtime.Engine.attach(fakes.fake_trt(), fakes.FakeEngine(max_batch=4), buffers.CudaPythonBuffers())
    with pytest.raises(UserError, match=r"batch 5 is outside the engine's profile \[1, 4\]"):
        eng.infer(np.zeros((5, 4), np.float32))
    eng.close()


def test_no_gpu_is_a_missing_runtime(monkeypatch):
    monkeypatch.setattr(buffers, "_cudart", lambda: fakes.FakeCudart(devices=0))
    with pytest.raises(MissingRuntime, match="no CUDA GPU visible to cuda-python"):
        buffers.CudaPythonBuffers()


def test_unknown_kind_is_a_user_error():
    with pytest.raises(UserError, match="choose one of torch, cuda-python, pycuda"):
        buffers.create("cupy")


# -- D6: data types TensorRT has and NumPy lacks -----------------------------------------------------

def test_every_tensorrt_data_type_has_a_holder():
    rtx = pytest.importorskip("tensorrt_rtx_bindings")
    torch = pytest.importorskip("torch")
    for name, member in rtx.DataType.__members__.items():
        entry = dtypes.of(member)  # a real trt.DataType, as engine.get_tensor_dtype returns it
        assert entry.name == name
        if entry.packed:
            assert dtypes.torch_dtype(member) is None and entry.numpy_dtype() == np.uint8
        else:
            assert isinstance(dtypes.torch_dtype(member), torch.dtype)
            assert entry.numpy_dtype().itemsize * 8 == entry.bits
    assert dtypes.of(rtx.DataType.INT4).nbytes((3, 5)) == 8  # 15 values, two per byte
    assert dtypes.of(np.float16).name == "HALF" and dtypes.of("bf16").name == "BF16"


def test_bf16_and_fp8_tensors_round_trip_through_cuda_python_buffers(cudart):
    b = buffers.CudaPythonBuffers()
    x = np.array([[1.0, -2.5, 3.140625, 1e-3]], np.float32)
    b.allocate("bf16", x.shape, fakes.DataType.BF16)
    b.allocate("fp8", x.shape, fakes.DataType.FP8)
    b.upload("bf16", x)
    b.upload("fp8", x)
    assert b.nbytes("bf16") == 8 and b.nbytes("fp8") == 4
    assert np.array_equal(b.download("bf16").astype(np.float32), x.astype(ml_dtypes.bfloat16).astype(np.float32))
    assert np.array_equal(b.download("fp8").astype(np.float32), x.astype(ml_dtypes.float8_e4m3fn).astype(np.float32))
    b.allocate("int4", (3, 5), fakes.DataType.INT4)
    with pytest.raises(ValueError, match="packed, 8 bytes"):
        b.upload("int4", np.zeros((3, 5), np.float32))
    b.upload("int4", np.arange(8, dtype=np.uint8))
    assert np.array_equal(b.download("int4"), np.arange(8, dtype=np.uint8))
    b.close()


def test_engine_with_bf16_output_needs_no_nptype(cudart):
    # trt.nptype(DataType.BF16) raises; runtime.Engine must not call it (fake_trt has no nptype at all).
    eng = runtime.Engine.attach(fakes.fake_trt(), fakes.FakeEngine(out_dtype=fakes.DataType.BF16),
                                buffers.CudaPythonBuffers())
    eng.prepare((2, 4))
    assert eng.buffers.types["y"].name == "BF16" and eng.buffers.nbytes("y") == 2 * 4 * 2
    eng.close()


# -- D2: pycuda in the primary context -----------------------------------------------------------------

def _fake_pycuda(monkeypatch, with_primary: bool = True, version=(2026, 1)):
    imported = []

    class Error(Exception):
        pass

    driver = types.ModuleType("pycuda.driver")
    driver.Error = Error
    pkg = types.ModuleType("pycuda")
    pkg.VERSION = version
    pkg.driver = driver
    pkg.__path__ = []
    modules = {"pycuda": pkg, "pycuda.driver": driver}
    autoinit = types.ModuleType("pycuda.autoinit")
    modules["pycuda.autoinit"] = autoinit
    if with_primary:
        modules["pycuda.autoprimaryctx"] = types.ModuleType("pycuda.autoprimaryctx")
    for name, mod in modules.items():
        monkeypatch.setitem(sys.modules, name, mod)
    if not with_primary:
        monkeypatch.setitem(sys.modules, "pycuda.autoprimaryctx", None)  # import raises ImportError

    real_import = __import__

    def tracking_import(name, *args, **kwargs):
        if name.startswith("pycuda"):
            imported.append(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr("builtins.__import__", tracking_import)
    return imported


def test_pycuda_uses_the_primary_context(monkeypatch):
    imported = _fake_pycuda(monkeypatch)
    buffers._pycuda()
    assert "pycuda.autoprimaryctx" in imported
    assert not any("autoinit" in name for name in imported)  # autoinit would push a second context


def test_pycuda_without_autoprimaryctx_says_which_version(monkeypatch):
    _fake_pycuda(monkeypatch, with_primary=False, version=(2020, 1))
    with pytest.raises(MissingRuntime, match=r"pycuda 2020\.1 has no pycuda\.autoprimaryctx; install pycuda >= 2021\.1"):
        buffers._pycuda()


def test_pycuda_buffers_hold_bf16_as_pinned_bytes(monkeypatch):
    # pycuda copies through the buffer protocol, which cannot describe bfloat16: the host side holds bytes.
    from demos.selfcheck import checks

    driver = fakes.FakePycudaDriver()
    monkeypatch.setattr(buffers, "_pycuda", lambda: driver)
    metrics = checks.exercise_buffers("pycuda")
    assert metrics["round_trips"] == 16 and "notes" not in metrics
    assert driver.allocations and all(a.freed for a in driver.allocations)
