"""The preprocessing kernel in CUDA C, compiled at run time by NVRTC and launched through CuPy.

One thread per pixel: it reads the pixel's three channels (adjacent in NHWC) and writes them to three
planes (NCHW).  Input may be uint8 (a standalone preprocessing step), float16 or float32 (inside TensorRT,
where the uint8 image arrives through a Cast); output is float32 or float16.  Half precision is converted
with explicit round-to-nearest PTX instructions, so no CUDA header is needed and the rounding is the one
NumPy uses.  NVRTC compiles without fast math, so ``/`` is the IEEE-rounded division.

Importing this module does not need CuPy or a GPU; launching does.
"""

from __future__ import annotations

import functools

import numpy as np

from demos.plugins.fields import PreprocessFields

CUDA_SOURCE = r"""
typedef unsigned short half_bits;  // IEEE binary16 bit pattern

__device__ __forceinline__ float to_float(unsigned char v) { return (float)v; }
__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(half_bits v) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(v));
    return f;
}
__device__ __forceinline__ void store(float* p, float v) { *p = v; }
__device__ __forceinline__ void store(half_bits* p, float v) {
    half_bits h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(v));
    *p = h;
}

template <typename Tin, typename Tout>
__device__ void preprocess_nhwc_to_nchw(const Tin* __restrict__ in, Tout* __restrict__ out,
                                        long long hw, long long pixels,
                                        float m0, float m1, float m2, float s0, float s1, float s2)
{
    for (long long p = (long long)blockIdx.x * blockDim.x + threadIdx.x; p < pixels;
         p += (long long)gridDim.x * blockDim.x) {
        long long n = p / hw;
        long long plane0 = n * 3 * hw + (p - n * hw);  // out[n, 0, h, w]
        const Tin* px = in + 3 * p;                     // in[n, h, w, 0]
        store(out + plane0, (to_float(px[0]) - m0) / s0);
        store(out + plane0 + hw, (to_float(px[1]) - m1) / s1);
        store(out + plane0 + 2 * hw, (to_float(px[2]) - m2) / s2);
    }
}

#define PREPROCESS_KERNEL(NAME, TIN, TOUT)                                                          \
extern "C" __global__ void NAME(const TIN* in, TOUT* out, long long hw, long long pixels,          \
                                float m0, float m1, float m2, float s0, float s1, float s2) {       \
    preprocess_nhwc_to_nchw<TIN, TOUT>(in, out, hw, pixels, m0, m1, m2, s0, s1, s2);               \
}
PREPROCESS_KERNEL(preprocess_u8_f32, unsigned char, float)
PREPROCESS_KERNEL(preprocess_u8_f16, unsigned char, half_bits)
PREPROCESS_KERNEL(preprocess_f16_f32, half_bits, float)
PREPROCESS_KERNEL(preprocess_f16_f16, half_bits, half_bits)
PREPROCESS_KERNEL(preprocess_f32_f32, float, float)
PREPROCESS_KERNEL(preprocess_f32_f16, float, half_bits)
"""

_SHORT = {"uint8": "u8", "float16": "f16", "float32": "f32"}
THREADS = 256
MAX_BLOCKS = 65535 * 32  # the grid-stride loop covers any size with a bounded grid


def kernel_name(in_dtype: str, out_dtype: str) -> str:
    try:
        return f"preprocess_{_SHORT[in_dtype]}_{_SHORT[out_dtype]}"
    except KeyError:
        raise ValueError(f"no kernel for {in_dtype} -> {out_dtype}; inputs uint8/float16/float32, "
                         "outputs float16/float32") from None


@functools.lru_cache(maxsize=None)
def _module():
    import cupy

    return cupy.RawModule(code=CUDA_SOURCE)  # NVRTC defaults: no fast math, so "/" is IEEE division


def launch(image, out, fields: PreprocessFields, threads: int = THREADS) -> None:
    """Run the kernel on CuPy arrays (or anything CuPy can wrap) on CuPy's current stream."""
    import cupy

    image = cupy.asarray(image)
    out = cupy.asarray(out)
    n, h, w, c = image.shape
    if c != 3 or tuple(out.shape) != (n, 3, h, w):
        raise ValueError(f"shapes do not fit: image {image.shape} -> out {out.shape} (expected {(n, 3, h, w)})")
    if not (image.flags.c_contiguous and out.flags.c_contiguous):
        raise ValueError("image and out must be C-contiguous")
    if out.dtype.name != fields.out_dtype:
        raise ValueError(f"out is {out.dtype.name}, fields say {fields.out_dtype}")
    kernel = _module().get_function(kernel_name(image.dtype.name, out.dtype.name))
    pixels = n * h * w
    if pixels == 0:
        return
    blocks = min((pixels + threads - 1) // threads, MAX_BLOCKS)
    m, s = np.float32(fields.mean), np.float32(fields.std)
    kernel((blocks,), (threads,), (image, out, np.int64(h * w), np.int64(pixels),
                                   m[0], m[1], m[2], s[0], s[1], s[2]))


def device_array(ptr: int, shape: tuple[int, ...], dtype: str, owner=None):
    """A CuPy view of device memory CuPy does not own (TensorRT's plugin buffers)."""
    import cupy

    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    memory = cupy.cuda.UnownedMemory(int(ptr), nbytes, owner)
    return cupy.ndarray(shape, dtype=dtype, memptr=cupy.cuda.MemoryPointer(memory, 0))


def compile_ptx(arch: str = "compute_80") -> str:
    """Compile :data:`CUDA_SOURCE` to PTX with NVRTC, without a GPU (NVRTC is a host-only compiler).

    Uses the NVRTC library of the ``nvidia-cuda-nvrtc`` wheel (installed with PyTorch) through ctypes.
    Raises ``RuntimeError`` with the compiler log if the source does not compile.
    """
    import ctypes
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("nvidia")
    roots = [Path(p) for p in (spec.submodule_search_locations if spec else [])]
    libs = sorted(p for root in roots for p in root.glob("*/lib/libnvrtc.so*") if "alt" not in p.name)
    builtins = sorted(p for root in roots for p in root.glob("*/lib/libnvrtc-builtins.so*") if "alt" not in p.name)
    if not libs or not builtins:
        raise RuntimeError("NVRTC not found: install nvidia-cuda-nvrtc (it comes with PyTorch's CUDA wheels)")
    ctypes.CDLL(str(builtins[0]), mode=ctypes.RTLD_GLOBAL)  # libnvrtc loads it by name at compile time
    nvrtc = ctypes.CDLL(str(libs[0]))
    program = ctypes.c_void_p()
    if nvrtc.nvrtcCreateProgram(ctypes.byref(program), CUDA_SOURCE.encode(), b"preprocess.cu", 0, None, None):
        raise RuntimeError("nvrtcCreateProgram failed")
    try:
        options = [f"--gpu-architecture={arch}".encode()]  # otherwise NVRTC's defaults, as CuPy uses them
        status = nvrtc.nvrtcCompileProgram(program, len(options), (ctypes.c_char_p * len(options))(*options))
        size = ctypes.c_size_t()
        nvrtc.nvrtcGetProgramLogSize(program, ctypes.byref(size))
        log = ctypes.create_string_buffer(size.value)
        nvrtc.nvrtcGetProgramLog(program, log)
        if status:
            raise RuntimeError(f"NVRTC could not compile the kernel: {log.value.decode(errors='replace').strip()}")
        nvrtc.nvrtcGetPTXSize(program, ctypes.byref(size))
        ptx = ctypes.create_string_buffer(size.value)
        nvrtc.nvrtcGetPTX(program, ptx)
        return ptx.value.decode()
    finally:
        nvrtc.nvrtcDestroyProgram(ctypes.byref(program))
