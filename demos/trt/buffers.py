"""Device memory for TensorRT I/O, three ways: PyTorch (default), cuda-python, pycuda.

TensorRT only needs device addresses (``context.set_tensor_address(name, ptr)``) and a CUDA stream handle
(``context.execute_async_v3(stream)``). Any CUDA library can provide them:

* :class:`TorchBuffers`: CUDA tensors; the stream is a ``torch.cuda.Stream``. Simplest, and the tensors can
  be handed to PyTorch code without a copy.
* :class:`CudaPythonBuffers`: NVIDIA's ``cuda-python`` (``cuda.bindings.runtime``): ``cudaMallocAsync`` and
  ``cudaMemcpyAsync`` on host NumPy arrays, as in NVIDIA's ``samples/python/common_runtime.py``.
* :class:`PyCudaBuffers`: ``pycuda`` (``pycuda.driver``), for code bases that already use it. pycuda builds
  against the CUDA headers, so it only installs where a CUDA toolkit exists (not on CPU-only CI).

Each class: ``allocate(name, shape, dtype)`` (``dtype``: a ``trt.DataType``, its name or a NumPy dtype),
``ptr(name)``, ``upload(name, array)``, ``download(name) -> array``, ``stream_handle``, ``synchronize()``,
``free()`` and ``close()``.

Two lifetimes: the buffers change with the input shape, the stream lives as long as the object.
``free()`` releases the buffers and keeps the stream, so an engine can re-allocate for a new batch size on the
same stream; ``close()`` also releases the stream, after which the object refuses to be used.
"""

from __future__ import annotations

import numpy as np

from demos.errors import MissingRuntime
from demos.trt import dtypes

KINDS = ("torch", "cuda-python", "pycuda")
# pycuda.autoprimaryctx (pycuda 2021.1, https://github.com/inducer/pycuda/pull/270) makes pycuda use the
# device's primary context, the one the CUDA runtime, TensorRT and PyTorch use.
PYCUDA_MIN = (2021, 1)


def create(kind: str = "torch"):
    if kind not in KINDS:
        from demos.errors import UserError

        raise UserError(f"unknown buffer kind {kind!r}; choose one of {', '.join(KINDS)}")
    return {"torch": TorchBuffers, "cuda-python": CudaPythonBuffers, "pycuda": PyCudaBuffers}[kind]()


class _Buffers:
    """What the three kinds share: the closed state, and host arrays in the engine's dtype."""

    kind = "?"

    def __init__(self):
        self.closed = False
        self.types: dict[str, dtypes.DType] = {}

    def _open(self):
        if self.closed:
            raise RuntimeError(f"{self.kind} buffers were closed (their CUDA stream is gone); create new ones")

    def _host(self, name: str, array) -> np.ndarray:
        """``array`` as a contiguous host array of the tensor's dtype (raw bytes for packed types)."""
        entry = self.types[name]
        array = np.asarray(array)
        if entry.packed:
            if array.dtype != np.uint8 or array.size != self.nbytes(name):
                raise ValueError(f"{name} is {entry.name} (packed, {self.nbytes(name)} bytes): upload those bytes "
                                 f"as a uint8 array, got {array.dtype} x {array.size}")
            return np.ascontiguousarray(array)
        return np.ascontiguousarray(array, dtype=entry.numpy_dtype())

    def nbytes(self, name: str) -> int:
        raise NotImplementedError

    def free(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class TorchBuffers(_Buffers):
    kind = "torch"

    def __init__(self):
        super().__init__()
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
        self._open()
        return self.stream.cuda_stream

    def allocate(self, name: str, shape, dtype) -> None:
        self._open()
        entry = dtypes.of(dtype)
        tdt = dtypes.torch_dtype(entry)
        if tdt is None:  # INT4/FP4 (or an older PyTorch): hold the packed bytes
            self.tensors[name] = self.torch.empty(entry.host_shape(shape), dtype=self.torch.uint8, device="cuda")
        else:
            self.tensors[name] = self.torch.empty(tuple(int(d) for d in shape), dtype=tdt, device="cuda")
        self.types[name] = entry

    def ptr(self, name: str) -> int:
        return self.tensors[name].data_ptr()

    def nbytes(self, name: str) -> int:
        t = self.tensors[name]
        return t.numel() * t.element_size()

    def upload(self, name: str, array: np.ndarray) -> None:
        self._open()
        array = np.ascontiguousarray(array)
        if array.dtype.kind == "V" or array.dtype.name not in _TORCH_HOST_DTYPES:
            array = array.astype(np.float32)  # an ml_dtypes array (bfloat16, float8): PyTorch converts from fp32
        src = self.torch.from_numpy(array)
        with self.torch.cuda.stream(self.stream):
            # copy_ converts float32 to the tensor's dtype (float16, bfloat16, float8) on the GPU
            self.tensors[name].copy_(src.reshape(self.tensors[name].shape), non_blocking=False)

    def download(self, name: str) -> np.ndarray:
        """The tensor as a NumPy array; BF16 and FP8 (no NumPy dtype) come back as float32."""
        self._open()
        t = self.tensors[name]
        with self.torch.cuda.stream(self.stream):
            if t.dtype.is_floating_point and t.dtype not in (self.torch.float32, self.torch.float16, self.torch.float64):
                t = t.float()
            out = t.cpu()
        return out.numpy()

    def synchronize(self) -> None:
        self._open()
        self.stream.synchronize()

    def free(self) -> None:
        if not self.closed:
            self.stream.synchronize()  # nothing in flight may still use the memory
        self.tensors.clear()
        self.types.clear()

    def close(self) -> None:
        if self.closed:
            return
        self.free()
        self.stream = None
        self.closed = True


_TORCH_HOST_DTYPES = {"float32", "float16", "float64", "int8", "uint8", "int16", "int32", "int64", "bool"}


def _cudart():
    try:
        from cuda.bindings import runtime as cudart
    except ImportError:
        try:
            from cuda import cudart  # cuda-python < 12.6 layout
        except ImportError:
            raise MissingRuntime("cuda-python is not installed (pip install cuda-python)") from None
    return cudart


def _check(cudart, result, what: str = "CUDA call"):
    """cuda-python calls return ``(err, *values)``; raise with the error's name on failure."""
    err, *rest = result if isinstance(result, tuple) else (result,)
    if int(err) != 0:
        raise RuntimeError(f"{what} failed: {error_name(cudart, err)}")
    if not rest:
        return None
    return rest[0] if len(rest) == 1 else rest


def error_name(cudart, err) -> str:
    try:
        ok, name = cudart.cudaGetErrorName(err)
        return name.decode() if int(ok) == 0 else str(err)
    except Exception:  # an unexpected object: show what we have
        return str(err)


class CudaPythonBuffers(_Buffers):
    kind = "cuda-python"

    def __init__(self):
        super().__init__()
        cudart = _cudart()
        self.cudart = cudart
        err, count = cudart.cudaGetDeviceCount()
        if int(err) != 0 or count < 1:
            raise MissingRuntime(f"no CUDA GPU visible to cuda-python ({error_name(cudart, err) if int(err) else '0 devices'})")
        self.stream = _check(cudart, cudart.cudaStreamCreate(), "cudaStreamCreate")
        self.mem: dict = {}

    @property
    def stream_handle(self) -> int:
        self._open()
        return int(self.stream)

    def allocate(self, name: str, shape, dtype) -> None:
        self._open()
        entry = dtypes.of(dtype)
        nbytes = entry.nbytes(shape)
        dev = _check(self.cudart, self.cudart.cudaMallocAsync(max(nbytes, 1), self.stream), "cudaMallocAsync")
        self.mem[name] = (dev, entry.host_shape(shape), nbytes)
        self.types[name] = entry

    def ptr(self, name: str) -> int:
        return int(self.mem[name][0])

    def nbytes(self, name: str) -> int:
        return self.mem[name][2]

    def upload(self, name: str, array: np.ndarray) -> None:
        self._open()
        dev, _, nbytes = self.mem[name]
        host = self._host(name, array)
        if host.nbytes != nbytes:
            raise ValueError(f"{name} holds {nbytes} bytes, the array has {host.nbytes}")
        _check(self.cudart, self.cudart.cudaMemcpyAsync(dev, host.ctypes.data, nbytes,
                                                        self.cudart.cudaMemcpyKind.cudaMemcpyHostToDevice, self.stream),
               "cudaMemcpyAsync (host to device)")
        self.synchronize()  # `host` must outlive the copy

    def download(self, name: str) -> np.ndarray:
        self._open()
        dev, shape, nbytes = self.mem[name]
        entry = self.types[name]
        host = np.empty(shape, np.uint8 if entry.packed else entry.numpy_dtype())
        _check(self.cudart, self.cudart.cudaMemcpyAsync(host.ctypes.data, dev, nbytes,
                                                        self.cudart.cudaMemcpyKind.cudaMemcpyDeviceToHost, self.stream),
               "cudaMemcpyAsync (device to host)")
        self.synchronize()
        return host

    def synchronize(self) -> None:
        self._open()
        _check(self.cudart, self.cudart.cudaStreamSynchronize(self.stream), "cudaStreamSynchronize")

    def free(self) -> None:
        """Release every buffer (on the stream, which stays usable for the next allocate)."""
        self._open()
        for dev, *_ in self.mem.values():
            _check(self.cudart, self.cudart.cudaFreeAsync(dev, self.stream), "cudaFreeAsync")
        self.mem.clear()
        self.types.clear()
        self.synchronize()

    def close(self) -> None:
        if self.closed:
            return
        self.free()
        _check(self.cudart, self.cudart.cudaStreamDestroy(self.stream), "cudaStreamDestroy")
        self.stream = None
        self.closed = True


def _pycuda():
    """``pycuda.driver``, working in the device's primary context (shared with TensorRT and the CUDA runtime).

    ``pycuda.autoinit`` would create and push a *new* context; imported after TensorRT's runtime exists, the
    engine's memory and pycuda's would then live in two contexts.
    """
    try:
        import pycuda
        import pycuda.driver as cuda
    except ImportError:
        raise MissingRuntime("pycuda is not installed (it builds against the CUDA toolkit: pip install pycuda)") from None
    try:
        import pycuda.autoprimaryctx  # noqa: F401  (retains and pushes the primary context of device 0)
    except ImportError:
        version = ".".join(map(str, getattr(pycuda, "VERSION", ("?",))))
        raise MissingRuntime(f"pycuda {version} has no pycuda.autoprimaryctx; install pycuda >= "
                             f"{'.'.join(map(str, PYCUDA_MIN))}") from None
    except cuda.Error as exc:  # no driver or no device
        raise MissingRuntime(f"pycuda cannot use a GPU: {exc}") from None
    return cuda


class PyCudaBuffers(_Buffers):
    kind = "pycuda"

    def __init__(self):
        super().__init__()
        self.cuda = _pycuda()
        self.stream = self.cuda.Stream()
        self.mem: dict = {}

    @property
    def stream_handle(self) -> int:
        self._open()
        return self.stream.handle

    def allocate(self, name: str, shape, dtype) -> None:
        self._open()
        entry = dtypes.of(dtype)
        # Pinned host memory as raw bytes: pycuda copies through the buffer protocol, which has no format for
        # ml_dtypes' bfloat16 or float8; the bytes are viewed in the tensor's dtype on the host side.
        host = self.cuda.pagelocked_empty(max(entry.nbytes(shape), 1), np.uint8)
        self.mem[name] = (self.cuda.mem_alloc(host.nbytes), host, tuple(int(d) for d in shape))
        self.types[name] = entry

    def ptr(self, name: str) -> int:
        return int(self.mem[name][0])

    def nbytes(self, name: str) -> int:
        return self.types[name].nbytes(self.mem[name][2])

    def upload(self, name: str, array: np.ndarray) -> None:
        self._open()
        dev, host, _ = self.mem[name]
        data = self._host(name, array).reshape(-1).view(np.uint8)
        if data.size != self.nbytes(name):
            raise ValueError(f"{name} holds {self.nbytes(name)} bytes, the array has {data.size}")
        host[: data.size] = data
        self.cuda.memcpy_htod_async(dev, host, self.stream)

    def download(self, name: str) -> np.ndarray:
        self._open()
        dev, host, shape = self.mem[name]
        self.cuda.memcpy_dtoh_async(host, dev, self.stream)
        self.stream.synchronize()
        entry = self.types[name]
        data = host[: self.nbytes(name)].copy()
        return data if entry.packed else data.view(entry.numpy_dtype()).reshape(shape)

    def synchronize(self) -> None:
        self._open()
        self.stream.synchronize()

    def free(self) -> None:
        self._open()
        self.stream.synchronize()  # copies in flight still read the pinned host buffers
        for dev, *_ in self.mem.values():
            dev.free()
        self.mem.clear()
        self.types.clear()

    def close(self) -> None:
        if self.closed:
            return
        self.free()
        self.stream = None  # pycuda destroys the stream with its last reference
        self.closed = True
