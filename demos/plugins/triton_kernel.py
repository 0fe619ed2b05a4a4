"""The preprocessing kernel in Triton: the kernel of the quickly deployable plugin.

Each program handles ``BLOCK`` consecutive pixels; mean and std are compile-time constants, which is
what an ahead-of-time (AOT) plugin needs (its PTX is fixed at engine build time, and only integer
scalars can be passed at run time).  The scalars come after the input pointer and before the output
pointer, the argument order ``tensorrt.plugin.aot_impl`` expects.  ``div_rn`` is the IEEE-rounded
division (Triton's ``/`` on float32 is approximate), so results match the NumPy reference bit for bit.

Importing needs Triton (it is installed with PyTorch); launching needs a GPU.
"""

from __future__ import annotations

import numpy as np
import triton
import triton.language as tl

from demos.plugins.fields import PreprocessFields

BLOCK = 512


@triton.jit
def preprocess_kernel(in_ptr, hw, pixels, out_ptr,
                      M0: tl.constexpr, M1: tl.constexpr, M2: tl.constexpr,
                      S0: tl.constexpr, S1: tl.constexpr, S2: tl.constexpr, BLOCK: tl.constexpr):
    p = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = p < pixels
    n = p // hw
    plane0 = n * 3 * hw + (p - n * hw)
    out_ty = out_ptr.dtype.element_ty
    x0 = tl.load(in_ptr + 3 * p, mask=mask).to(tl.float32)
    x1 = tl.load(in_ptr + 3 * p + 1, mask=mask).to(tl.float32)
    x2 = tl.load(in_ptr + 3 * p + 2, mask=mask).to(tl.float32)
    tl.store(out_ptr + plane0, tl.math.div_rn(x0 - M0, S0).to(out_ty), mask=mask)
    tl.store(out_ptr + plane0 + hw, tl.math.div_rn(x1 - M1, S1).to(out_ty), mask=mask)
    tl.store(out_ptr + plane0 + 2 * hw, tl.math.div_rn(x2 - M2, S2).to(out_ty), mask=mask)


def constants(fields: PreprocessFields) -> dict[str, float]:
    """The constexpr values: exactly the float32 numbers the reference uses."""
    m, s = np.float32(fields.mean), np.float32(fields.std)
    return {"M0": float(m[0]), "M1": float(m[1]), "M2": float(m[2]),
            "S0": float(s[0]), "S1": float(s[1]), "S2": float(s[2])}


def grid(pixels: int, block: int = BLOCK) -> tuple[int]:
    return (triton.cdiv(pixels, block),)


def launch(image, out, fields: PreprocessFields, block: int = BLOCK) -> None:
    """Run on PyTorch CUDA tensors (NHWC in, NCHW out) on PyTorch's current stream."""
    n, h, w, c = image.shape
    if c != 3 or tuple(out.shape) != (n, 3, h, w):
        raise ValueError(f"shapes do not fit: image {tuple(image.shape)} -> out {tuple(out.shape)}")
    if not (image.is_contiguous() and out.is_contiguous()):
        raise ValueError("image and out must be contiguous")
    pixels = n * h * w
    if pixels == 0:
        return
    preprocess_kernel[grid(pixels, block)](image, h * w, pixels, out, **constants(fields), BLOCK=block)


TRITON_POINTER = {"uint8": "*u8", "float16": "*fp16", "float32": "*fp32"}


def compile_aot(in_dtype: str, fields: PreprocessFields, target=None, block: int = BLOCK):
    """Compile the kernel ahead of time for ``in_dtype`` -> ``fields.out_dtype``; returns Triton's kernel.

    ``target`` (``triton.backends.compiler.GPUTarget``) defaults to the current GPU; naming one compiles to
    PTX without a GPU.  ``hw`` and ``pixels`` stay run-time int32 arguments; mean and std are baked in.
    """
    src = triton.compiler.ASTSource(
        fn=preprocess_kernel,
        signature={"in_ptr": TRITON_POINTER[in_dtype], "hw": "i32", "pixels": "i32",
                   "out_ptr": TRITON_POINTER[fields.out_dtype]},
        constexprs={**constants(fields), "BLOCK": block},
    )
    compiled = triton.compile(src) if target is None else triton.compile(src, target=target)
    # Triton >= 3.3 appends scratch-buffer pointer parameters that TensorRT does not pass; they are only
    # safe to leave unset while the kernel uses no scratch memory.
    scratch = getattr(compiled.metadata, "global_scratch_size", 0) + getattr(compiled.metadata, "profile_scratch_size", 0)
    if scratch:
        raise RuntimeError(f"the compiled kernel needs {scratch} bytes of scratch memory; TensorRT's AOT launch "
                           "cannot provide it")
    return compiled
