"""Stand-ins for the CUDA runtime (cuda-python) and a TensorRT engine, for machines without a GPU.

:class:`FakeCudart` has the call signatures and return convention of ``cuda.bindings.runtime``
(``(cudaError_t, *values)``), keeps "device" memory in real host buffers so copies move real bytes, and
enforces what the real runtime enforces and the demos once got wrong: a destroyed stream cannot be used
(``cudaErrorInvalidResourceHandle``), freed memory cannot be freed again.  ``test_fakes_match_cuda_python``
checks every name it offers against the installed cuda-python.

:class:`FakeEngine` / :class:`FakeContext` implement the part of ``ICudaEngine`` / ``IExecutionContext`` that
:class:`demos.trt.runtime.Engine` uses, for one input and one output; "executing" doubles the input.
"""

from __future__ import annotations

import ctypes
import enum
import types

import numpy as np


class cudaError_t(enum.IntEnum):  # noqa: N801  (the real name)
    cudaSuccess = 0
    cudaErrorInvalidValue = 1
    cudaErrorInvalidResourceHandle = 400


class cudaMemcpyKind(enum.IntEnum):  # noqa: N801
    cudaMemcpyHostToDevice = 1
    cudaMemcpyDeviceToHost = 2


class FakeCudart:
    cudaError_t = cudaError_t
    cudaMemcpyKind = cudaMemcpyKind

    def __init__(self, devices: int = 1):
        self.devices = devices
        self.streams: dict[int, bool] = {}  # handle -> alive
        self.memory: dict[int, ctypes.Array] = {}  # device pointer -> backing buffer
        self.calls: list[tuple] = []
        self._next_stream = 0x1000

    # -- the API ---------------------------------------------------------------------------------
    def cudaGetDeviceCount(self):
        return cudaError_t.cudaSuccess, self.devices

    def cudaGetErrorName(self, err):
        return cudaError_t.cudaSuccess, cudaError_t(int(err)).name.encode()

    def cudaStreamCreate(self):
        self._next_stream += 16
        self.streams[self._next_stream] = True
        self.calls.append(("cudaStreamCreate", self._next_stream))
        return cudaError_t.cudaSuccess, self._next_stream

    def cudaStreamDestroy(self, stream):
        self.calls.append(("cudaStreamDestroy", int(stream)))
        if not self.streams.get(int(stream)):
            return (cudaError_t.cudaErrorInvalidResourceHandle,)
        self.streams[int(stream)] = False
        return (cudaError_t.cudaSuccess,)

    def cudaStreamSynchronize(self, stream):
        return (self._stream_ok(stream),)

    def cudaMallocAsync(self, nbytes, stream):
        self.calls.append(("cudaMallocAsync", nbytes, int(stream)))
        err = self._stream_ok(stream)
        if err:
            return err, None
        buf = (ctypes.c_ubyte * nbytes)()
        ptr = ctypes.addressof(buf)
        self.memory[ptr] = buf
        return cudaError_t.cudaSuccess, ptr

    def cudaFreeAsync(self, ptr, stream):
        self.calls.append(("cudaFreeAsync", int(ptr), int(stream)))
        err = self._stream_ok(stream)
        if err:
            return (err,)
        if self.memory.pop(int(ptr), None) is None:
            return (cudaError_t.cudaErrorInvalidValue,)
        return (cudaError_t.cudaSuccess,)

    def cudaMemcpyAsync(self, dst, src, count, kind, stream):
        err = self._stream_ok(stream)
        if err:
            return (err,)
        device = int(dst) if kind == cudaMemcpyKind.cudaMemcpyHostToDevice else int(src)
        if device not in self.memory or len(self.memory[device]) < count:
            return (cudaError_t.cudaErrorInvalidValue,)
        ctypes.memmove(int(dst), int(src), count)
        return (cudaError_t.cudaSuccess,)

    # -- helpers ---------------------------------------------------------------------------------
    def _stream_ok(self, stream):
        return cudaError_t.cudaSuccess if self.streams.get(int(stream)) else cudaError_t.cudaErrorInvalidResourceHandle

    def api_names(self) -> list[str]:
        return sorted(n for n in dir(type(self)) if n.startswith("cuda"))


class DataType(enum.Enum):
    """Stand-in for ``trt.DataType`` (pybind11 enums have ``.name`` too)."""

    FLOAT = 0
    HALF = 1
    INT8 = 2
    INT32 = 3
    BOOL = 4
    UINT8 = 5
    FP8 = 6
    BF16 = 7
    INT64 = 8
    INT4 = 9
    FP4 = 10
    E8M0 = 11


class TensorIOMode(enum.Enum):
    INPUT = 1
    OUTPUT = 2


def fake_trt(version: str = "10.16.1.11"):
    """The module-level names runtime.Engine touches; no ``nptype`` (it must not be needed)."""
    return types.SimpleNamespace(__name__="tensorrt", __version__=version, DataType=DataType, TensorIOMode=TensorIOMode)


class FakeEngine:
    """One input ``x`` (N x 4, dynamic batch 1..8) and one output ``y`` of the given dtypes."""

    def __init__(self, in_dtype=DataType.FLOAT, out_dtype=DataType.FLOAT, max_batch: int = 8):
        self.dtypes = {"x": in_dtype, "y": out_dtype}
        self.max_batch = max_batch
        self.num_io_tensors = 2

    def get_tensor_name(self, i):
        return ("x", "y")[i]

    def get_tensor_mode(self, name):
        return TensorIOMode.INPUT if name == "x" else TensorIOMode.OUTPUT

    def get_tensor_dtype(self, name):
        return self.dtypes[name]

    def get_tensor_shape(self, name):
        return (-1, 4)

    def get_tensor_profile_shape(self, name, profile):
        return (1, 4), (2, 4), (self.max_batch, 4)

    def create_execution_context(self):
        return FakeContext(self)


class FakeContext:
    def __init__(self, engine: FakeEngine):
        self.engine = engine
        self.shape = None
        self.addresses: dict[str, int] = {}
        self.streams: list[int] = []

    def set_input_shape(self, name, shape):
        self.shape = tuple(shape)
        return True

    def get_tensor_shape(self, name):
        return self.shape

    def set_tensor_address(self, name, ptr):
        self.addresses[name] = int(ptr)

    def execute_async_v3(self, stream):
        """y = 2 * x, computed in float32 from the bytes at the bound addresses (float32 I/O only)."""
        self.streams.append(int(stream))
        n = int(np.prod(self.shape))
        x = np.ctypeslib.as_array((ctypes.c_float * n).from_address(self.addresses["x"]))
        y = np.ctypeslib.as_array((ctypes.c_float * n).from_address(self.addresses["y"]))
        y[:] = 2 * x
        return True


class FakePycudaDriver:
    """``pycuda.driver`` as PyCudaBuffers uses it: pinned arrays, device allocations, async copies, streams."""

    class DeviceAllocation:
        def __init__(self, nbytes):
            self.data = bytearray(nbytes)
            self.freed = False

        def __int__(self):
            return id(self.data)

        def free(self):
            if self.freed:
                raise RuntimeError("double free")
            self.freed = True

    class Stream:
        def __init__(self):
            self.handle = id(self)

        def synchronize(self):
            pass

    def __init__(self):
        self.allocations = []

    def pagelocked_empty(self, shape, dtype):
        return np.empty(shape, dtype)

    def mem_alloc(self, nbytes):
        self.allocations.append(self.DeviceAllocation(nbytes))
        return self.allocations[-1]

    @staticmethod
    def _bytes(host):
        # pycuda copies through the buffer protocol, which has no format for ml_dtypes' types
        return memoryview(host).cast("B")

    def memcpy_htod_async(self, dev, host, stream):
        assert not dev.freed
        view = self._bytes(host)
        dev.data[: len(view)] = view

    def memcpy_dtoh_async(self, host, dev, stream):
        assert not dev.freed
        view = self._bytes(host)
        view[:] = dev.data[: len(view)]
