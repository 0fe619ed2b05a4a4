"""What can be checked of the GPU kernels without a GPU: they compile, and the Triton one computes right.

- the CUDA C source compiles with NVRTC (a host-only compiler) and uses IEEE division and
  round-to-nearest half conversion, which is what makes bit-exact results possible;
- the Triton kernel compiles ahead of time to PTX for a named GPU, as the AOT plugin needs;
- the Triton kernel runs in Triton's CPU interpreter and matches the NumPy reference bit for bit.

The kernels on a real GPU: ``python -m demos.plugins.gpu_check`` (results in demos/plugins/results/).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from demos.plugins import cuda_kernel, triton_kernel
from demos.plugins.fields import IMAGENET

HERE = Path(__file__).resolve().parent


def test_cuda_source_compiles_with_nvrtc_and_rounds_like_numpy():
    ptx = cuda_kernel.compile_ptx("compute_80")
    entries = set(re.findall(r"\.entry (\w+)", ptx))
    assert entries == {cuda_kernel.kernel_name(i, o) for i in ("uint8", "float16", "float32")
                       for o in ("float32", "float16")}
    assert "div.rn.f32" in ptx and "div.approx" not in ptx and "div.full" not in ptx
    assert "cvt.rn.f16.f32" in ptx


def test_kernel_names_and_unsupported_dtypes():
    assert cuda_kernel.kernel_name("uint8", "float16") == "preprocess_u8_f16"
    with pytest.raises(ValueError, match="no kernel for int8"):
        cuda_kernel.kernel_name("int8", "float32")


@pytest.mark.parametrize("in_dtype", ["uint8", "float16", "float32"])
@pytest.mark.parametrize("out_dtype", ["float32", "float16"])
def test_triton_kernel_compiles_ahead_of_time_without_a_gpu(in_dtype, out_dtype):
    from triton.backends.compiler import GPUTarget

    compiled = triton_kernel.compile_aot(in_dtype, IMAGENET.with_out_dtype(out_dtype), target=GPUTarget("cuda", 80, 32))
    ptx = compiled.asm["ptx"]
    assert compiled.metadata.name == "preprocess_kernel"
    assert ".entry preprocess_kernel" in ptx and "div.rn.f32" in ptx
    assert compiled.metadata.shared == 0
    assert (compiled.metadata.num_warps * 32) == int(re.search(r"\.reqntid (\d+)", ptx).group(1))


def test_triton_kernel_in_the_cpu_interpreter_matches_the_reference_bit_for_bit():
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    proc = subprocess.run([sys.executable, str(HERE / "triton_interpret_run.py")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(results) == 2 * 3 * 2 * 2
    for r in results:
        assert r["unwritten"] == 0, r
        assert r["exact"] == 1.0, r


def test_launchers_reject_mismatched_buffers_before_launching():
    image = torch.zeros((1, 8, 8, 3), dtype=torch.uint8)
    with pytest.raises(ValueError, match="shapes do not fit"):
        triton_kernel.launch(image, torch.zeros((1, 3, 8, 9)), IMAGENET)
    with pytest.raises(ValueError, match="contiguous"):
        triton_kernel.launch(image, torch.zeros((1, 8, 8, 3)).permute(0, 3, 1, 2), IMAGENET)
