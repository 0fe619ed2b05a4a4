"""Provenance of a GPU measurement: what :func:`demos.provenance.collect` records, plus what a GPU benchmark
needs next to its numbers (SM count, L2 size, the CUDA version of the driver, and the clocks right after the
run, which tell a throttled GPU from a slow kernel). Shared by the three ``demos.gpu_speed`` command lines.
"""

from __future__ import annotations

import subprocess


def gpu_clocks() -> dict | None:
    """Clock, temperature and power right after the run: a throttled GPU explains a low number."""
    base = "clocks.sm,clocks.max.sm,clocks.mem,temperature.gpu,power.draw,power.limit"
    # Newer drivers call the throttle reasons "clock event reasons"; an unknown field fails the whole query.
    for query in (base + ",clocks_event_reasons.active", base + ",clocks_throttle_reasons.active", base):
        try:
            out = subprocess.run(["nvidia-smi", f"--query-gpu={query}", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.SubprocessError):
            return None
        if out.returncode == 0 and out.stdout.strip():
            values = [v.strip() for v in out.stdout.strip().splitlines()[0].split(",")]
            return dict(zip(query.split(","), values))
    return None


def driver_cuda_version() -> str | None:
    """The CUDA version the installed driver supports, from libcuda itself (works without nvidia-smi)."""
    import ctypes

    try:
        libcuda = ctypes.CDLL("libcuda.so.1")
        version = ctypes.c_int()
        if libcuda.cuDriverGetVersion(ctypes.byref(version)) != 0:
            return None
    except (OSError, AttributeError):
        return None
    return f"{version.value // 1000}.{version.value % 1000 // 10}"


def collect(torch, cuda: bool) -> dict:
    """Provenance for a result file; on CUDA with the GPU's name, SM count, L2 size and driver CUDA version."""
    from demos import provenance

    prov = provenance.collect(gpu=cuda)
    if cuda:
        props = torch.cuda.get_device_properties(0)
        prov["gpu"] = {**(prov.get("gpu") or {}), "l2_cache_bytes": getattr(props, "L2_cache_size", None),
                       "name": props.name, "sm_count": props.multi_processor_count,
                       "driver_cuda": driver_cuda_version()}
    return prov


def no_cuda_message(torch) -> str:
    import os

    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "unset")
    return (f"no CUDA device: torch.cuda.is_available() is False (PyTorch {torch.__version__}, "
            f"CUDA_VISIBLE_DEVICES={visible}); run this on a GPU machine")


def machine_key(prov: dict) -> dict:
    """What must not change between the calls of one resumed measurement."""
    gpu = prov.get("gpu") or {}
    return {"gpu": gpu.get("name"), "driver": gpu.get("driver"), "torch": (prov.get("versions") or {}).get("torch"),
            "cpu": (prov.get("host") or {}).get("cpu") if not gpu else None}
