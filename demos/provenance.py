"""Where and with what a number was measured: hardware, driver, library versions, date.

Every result file of the demo embeds :func:`collect`'s dictionary. Nothing here needs more than the
standard library; libraries that are not installed are recorded as ``None``.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata as _md
import os
import platform
import subprocess

LIBRARIES = ("torch", "torchvision", "timm", "numpy", "onnx", "onnxruntime", "nvidia-modelopt", "tensorrt",
             "tensorrt-rtx-cu13-bindings", "cuda-python", "pycuda", "triton")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# Byte dot-product instructions (int32 accumulation) that ONNX Runtime's x86 INT8 kernels use when present.
INT8_DOT_PRODUCT_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "avx512vnni", "amx_int8"})


def int8_dot_product(flags) -> list[str]:
    """The INT8 dot-product instructions among ``flags`` (e.g. a recorded ``cpu_flags`` list), sorted."""
    return sorted(INT8_DOT_PRODUCT_FLAGS.intersection(flags))


def cpu_flags() -> list[str]:
    """The SIMD features that decide INT8 speed on CPU (AVX512-VNNI and friends)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return sorted(f for f in flags if f.startswith(("avx", "amx")) or f in ("fma", "f16c"))
    except OSError:
        pass
    return []


def gpu_info() -> dict | None:
    """GPU name, memory, driver and CUDA as seen by PyTorch and nvidia-smi, or None without a GPU."""
    info: dict = {}
    try:
        import torch

        if torch.cuda.is_available():
            p = torch.cuda.get_device_properties(0)
            info.update(name=p.name, count=torch.cuda.device_count(), memory_gib=round(p.total_memory / 2**30, 1),
                        compute_capability=f"{p.major}.{p.minor}", sm_count=p.multi_processor_count,
                        torch_cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version())
    except Exception:
        pass
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,clocks.max.sm,power.limit",
                              "--format=csv,noheader"], capture_output=True, text=True, timeout=20)
        if out.returncode == 0 and out.stdout.strip():
            name, driver, clock, power = [s.strip() for s in out.stdout.strip().splitlines()[0].split(",")]
            info.update(driver=driver, max_sm_clock=clock, power_limit=power)
            info.setdefault("name", name)
    except (OSError, subprocess.SubprocessError, ValueError):
        pass
    return info or None


def versions() -> dict[str, str | None]:
    out = {"python": platform.python_version()}
    for lib in LIBRARIES:
        try:
            out[lib] = _md.version(lib)
        except _md.PackageNotFoundError:
            out[lib] = None
    if out.get("tensorrt") is None:
        for dist in ("tensorrt-cu13", "tensorrt-cu12", "tensorrt-cu13-bindings", "tensorrt-cu12-bindings"):
            try:
                out["tensorrt"] = _md.version(dist)
                break
            except _md.PackageNotFoundError:
                continue
    return out


def collect(gpu: bool = True) -> dict:
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "host": {"cpu": cpu_model(), "cpu_count": os.cpu_count(), "cpu_flags": cpu_flags(),
                 "os": platform.platform(), "machine": platform.machine()},
        "gpu": gpu_info() if gpu else None,
        "versions": versions(),
    }
