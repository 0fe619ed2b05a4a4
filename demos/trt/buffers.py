"""Device memory for TensorRT I/O, three ways: PyTorch (default), cuda-python, pycuda.

TensorRT only needs device addresses (``context.set_tensor_address(name, ptr)``) and a CUDA stream handle
(``context.execute_async_v3(stream)``). Any CUDA library can provide them:

* :class:`TorchBuffers`: CUDA tensors; the stream is a ``torch.cuda.Stream``. Simplest, and the tensors can
  be handed to PyTorch code without a copy.
* :class:`CudaPythonBuffers`: NVIDIA's ``cuda-python`` (``cuda.bindings.runtime``): ``cudaMallocAsync`` and
  ``cudaMemcpyAsync`` on host NumPy arrays.
* :class:`PyCudaBuffers`: ``pycuda`` (``pycuda.driver``), for code bases that already use it. pycuda builds
  against the CUDA headers, so it only installs where a CUDA toolkit exists (not on CPU-only CI).

Each class: ``allocate(name, shape, numpy dtype)``, ``ptr(name)``, ``upload(name, array)``,
``download(name) -> array``, ``stream_handle``, ``synchronize()``, ``close()``.
"""

from __future__ import annotations

import numpy as np

from demos.errors import MissingRuntime

KINDS = ("torch", "cuda-python", "pycuda")


def create(kind: str = "torch"):
    return {"torch": TorchBuffers, "cuda-python": CudaPythonBuffers, "pycuda": PyCudaBuffers}[kind]()


class TorchBuffers:
    def __init__(self):
        try:
            import torch
        except ImportError:
            raise MissingRuntime("PyTorch is not installed; use --buffers cuda-python or pycuda") from None
        if not torch.cuda.is_available():
            raise MissingRuntime("no CUDA GPU visible to PyTorch")
        self.torch = torch
        self.stream = torch.cuda.Stream()
        self.tensors: dict = {}

    @property
    def stream_handle(self) -> int:
        return self.stream.cuda_stream

    def allocate(self, name: str, shape, dtype) -> None:
        t = self.torch
        tdt = {np.float32: t.float32, np.float16: t.float16, np.int8: t.int8, np.int32: t.int32,
               np.int64: t.int64, np.uint8: t.uint8, np.bool_: t.bool}[np.dtype(dtype).type]
        self.tensors[name] = t.empty(tuple(shape), dtype=tdt, device="cuda")

    def ptr(self, name: str) -> int:
        return self.tensors[name].data_ptr()

    def upload(self, name: str, array: np.ndarray) -> None:
        with self.torch.cuda.stream(self.stream):
            self.tensors[name].copy_(self.torch.from_numpy(np.ascontiguousarray(array)), non_blocking=False)

    def download(self, name: str) -> np.ndarray:
        with self.torch.cuda.stream(self.stream):
            out = self.tensors[name].cpu()
        return out.numpy()

    def synchronize(self) -> None:
        self.stream.synchronize()

    def close(self) -> None:
        self.tensors.clear()


def _check(result):
    """cuda-python calls return ``(err, *values)``; raise on error."""
    err, *rest = result if isinstance(result, tuple) else (result,)
    if int(err) != 0:
        raise RuntimeError(f"CUDA error {err}")
    return rest[0] if len(rest) == 1 else rest


class CudaPythonBuffers:
    def __init__(self):
        try:
            from cuda.bindings import runtime as cudart
        except ImportError:
            try:
                from cuda import cudart  # cuda-python < 12.6 layout
            except ImportError:
                raise MissingRuntime("cuda-python is not installed (pip install cuda-python)") from None
        self.cudart = cudart
        count = _check(cudart.cudaGetDeviceCount())
        if count < 1:
            raise MissingRuntime("no CUDA GPU visible to cuda-python")
        self.stream = _check(cudart.cudaStreamCreate())
        self.mem: dict = {}

    @property
    def stream_handle(self) -> int:
        return int(self.stream)

    def allocate(self, name: str, shape, dtype) -> None:
        nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
        self.mem[name] = (_check(self.cudart.cudaMallocAsync(nbytes, self.stream)), tuple(shape), np.dtype(dtype), nbytes)

    def ptr(self, name: str) -> int:
        return int(self.mem[name][0])

    def upload(self, name: str, array: np.ndarray) -> None:
        dev, _, dtype, nbytes = self.mem[name]
        host = np.ascontiguousarray(array, dtype=dtype)
        _check(self.cudart.cudaMemcpyAsync(dev, host.ctypes.data, nbytes,
                                           self.cudart.cudaMemcpyKind.cudaMemcpyHostToDevice, self.stream))
        self.synchronize()  # `host` must outlive the copy

    def download(self, name: str) -> np.ndarray:
        dev, shape, dtype, nbytes = self.mem[name]
        host = np.empty(shape, dtype)
        _check(self.cudart.cudaMemcpyAsync(host.ctypes.data, dev, nbytes,
                                           self.cudart.cudaMemcpyKind.cudaMemcpyDeviceToHost, self.stream))
        self.synchronize()
        return host

    def synchronize(self) -> None:
        _check(self.cudart.cudaStreamSynchronize(self.stream))

    def close(self) -> None:
        for dev, *_ in self.mem.values():
            _check(self.cudart.cudaFreeAsync(dev, self.stream))
        self.synchronize()
        self.mem.clear()
        _check(self.cudart.cudaStreamDestroy(self.stream))


class PyCudaBuffers:
    def __init__(self):
        try:
            import pycuda.autoinit  # noqa: F401  (creates a context on GPU 0)
            import pycuda.driver as cuda
        except ImportError:
            raise MissingRuntime("pycuda is not installed (it needs the CUDA toolkit headers to build)") from None
        self.cuda = cuda
        self.stream = cuda.Stream()
        self.mem: dict = {}

    @property
    def stream_handle(self) -> int:
        return self.stream.handle

    def allocate(self, name: str, shape, dtype) -> None:
        host = self.cuda.pagelocked_empty(tuple(shape), np.dtype(dtype))
        self.mem[name] = (self.cuda.mem_alloc(host.nbytes), host)

    def ptr(self, name: str) -> int:
        return int(self.mem[name][0])

    def upload(self, name: str, array: np.ndarray) -> None:
        dev, host = self.mem[name]
        np.copyto(host, array)
        self.cuda.memcpy_htod_async(dev, host, self.stream)

    def download(self, name: str) -> np.ndarray:
        dev, host = self.mem[name]
        self.cuda.memcpy_dtoh_async(host, dev, self.stream)
        self.stream.synchronize()
        return host.copy()

    def synchronize(self) -> None:
        self.stream.synchronize()

    def close(self) -> None:
        for dev, _ in self.mem.values():
            dev.free()
        self.mem.clear()
