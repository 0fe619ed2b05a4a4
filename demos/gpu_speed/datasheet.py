"""Datasheet peak rates of the GPUs this tutorial was measured on. These are NVIDIA's numbers, not ours.

NVIDIA prints Tensor Core rates *with 2:4 structured sparsity* and marks them with an asterisk; the
footnote says the dense rates are half of that. A plain matrix multiplication is dense, so every comparison
in this repository uses :func:`dense_peak`, which halves the printed value. FP32 on the CUDA cores is not a
Tensor Core rate and has no sparse variant.

The values were copied from NVIDIA's product pages (``source`` below) and cross-checked with the search tool
against independent copies of NVIDIA's specification table (``cross_checked`` below) on 2026-11-22.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Matmul data types measured by demos.gpu_speed, in the order the page shows them.
DTYPES = ("fp32", "tf32", "bf16", "fp16", "fp8_e4m3", "int8")

# The unit of each rate: integer math is counted in operations, floating point in FLOPs.
UNITS = {"fp32": "TFLOPS", "tf32": "TFLOPS", "bf16": "TFLOPS", "fp16": "TFLOPS", "fp8_e4m3": "TFLOPS",
         "int8": "TOPS"}


@dataclass(frozen=True)
class Datasheet:
    gpu: str
    source: str
    # As printed by NVIDIA, in TFLOPS (TOPS for int8). Tensor Core rates include sparsity.
    printed: dict[str, float]
    sparse_as_printed: frozenset[str]
    memory_bandwidth_tbps: float  # TB/s, 10**12 bytes per second
    memory_gb: float
    cross_checked: tuple[str, ...] = field(default=())
    note: str = ""

    def dense_peak(self, dtype: str) -> float:
        """Dense peak rate in TFLOPS (TOPS for int8): half the printed value where NVIDIA prints sparsity."""
        key = "fp8_e4m3" if dtype.startswith("fp8") else dtype
        value = self.printed[key]
        return value / 2 if key in self.sparse_as_printed else value

    def ridge_point(self, dtype: str) -> float:
        """Arithmetic intensity (FLOP or OP per byte of DRAM traffic) where compute and memory roofs meet."""
        return self.dense_peak(dtype) / self.memory_bandwidth_tbps


_TENSOR_CORE = frozenset({"tf32", "bf16", "fp16", "fp8_e4m3", "int8"})
_HOPPER_PRINTED = {"fp32": 67.0, "tf32": 989.0, "bf16": 1979.0, "fp16": 1979.0, "fp8_e4m3": 3958.0,
                   "int8": 3958.0}
_CROSS_CHECKED = (
    # Reproductions of NVIDIA's H100 table incl. the footnote "Shown with sparsity. Specifications 1/2 lower
    # without sparsity", and the dense Hopper whitepaper values (494.7 / 989.4 / 1978.9 TFLOPS).
    "https://archive-lib.hpctech.co.jp/gpuproduct/nvidia-h100.html",
    "https://glennklockwood.com/garden/processors/h100",
)

DATASHEETS: dict[str, Datasheet] = {
    "H100 SXM": Datasheet(
        gpu="H100 SXM",
        source="https://www.nvidia.com/en-us/data-center/h100/",
        printed=dict(_HOPPER_PRINTED),
        sparse_as_printed=_TENSOR_CORE,
        memory_bandwidth_tbps=3.35,
        memory_gb=80,
        cross_checked=_CROSS_CHECKED,
    ),
    "H200 SXM": Datasheet(
        gpu="H200 SXM",
        source="https://www.nvidia.com/en-us/data-center/h200/",
        printed=dict(_HOPPER_PRINTED),
        sparse_as_printed=_TENSOR_CORE,
        memory_bandwidth_tbps=4.8,
        memory_gb=141,
        cross_checked=_CROSS_CHECKED + ("https://www.morphllm.com/nvidia-h200",),
        note="Same Hopper compute as the H100 SXM; more and faster memory (HBM3e).",
    ),
}


def match_gpu(name: str | None, sm_count: int | None = None) -> Datasheet | None:
    """The datasheet for a GPU name as PyTorch reports it, or None when it is not one we have numbers for.

    PCIe and NVL boards have lower clocks and power limits than SXM boards, so they never match an SXM
    datasheet: comparing them with it would make the measurement look worse than it is.
    """
    if not name:
        return None
    upper = name.upper()
    if "PCIE" in upper or "NVL" in upper or "GH200" in upper:  # GH200: other memory, other power limit
        return None
    if sm_count is not None and sm_count != 132:
        return None
    if "H200" in upper:
        return DATASHEETS["H200 SXM"]
    if "H100" in upper and ("HBM3" in upper or "SXM" in upper):
        return DATASHEETS["H100 SXM"]
    return None
