"""What this machine has: TensorRT and its flavour, GPU, CUDA, the buffer libraries, ONNX Runtime, ModelOpt.

Only the standard library and NumPy are imported at module level; each probe imports its library inside a
``try`` and says why it is unusable.  Nothing here creates a CUDA context except the GPU probe through
PyTorch or cuda-python, which every GPU check needs anyway.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata as md
import importlib.util
import platform


@dataclasses.dataclass
class Component:
    name: str
    available: bool
    version: str | None = None
    detail: str = ""

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _version(*dists: str) -> str | None:
    for dist in dists:
        try:
            return md.version(dist)
        except md.PackageNotFoundError:
            continue
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:160]}" if text else type(exc).__name__


def tensorrt() -> Component:
    from demos.trt import loader

    if not loader.available():
        return Component("TensorRT", False, None, loader.missing_reason() or "not installed")
    trt = loader.tensorrt()
    major = loader.major(trt)
    if major >= 11:
        detail = "TensorRT 11: strongly typed only (FP16 from an FP16 model, INT8 from Q/DQ nodes)"
    else:
        detail = "TensorRT 10: strongly typed, plus weak typing (BuilderFlag.FP16/INT8, IInt8EntropyCalibrator2)"
    qdp = tuple(int(p) for p in trt.__version__.split(".")[:2]) >= (10, 9)
    detail += "; tensorrt.plugin with AOT (>= 10.9)" if qdp else "; no tensorrt.plugin AOT (needs >= 10.9)"
    return Component("TensorRT", True, trt.__version__, detail)


def tensorrt_rtx() -> Component:
    from demos.errors import MissingRuntime
    from demos.trt import rtx

    version = _version("tensorrt-rtx-cu13-bindings", "tensorrt-rtx-cu12-bindings")
    if version is None or importlib.util.find_spec("tensorrt_rtx_bindings") is None:
        return Component("TensorRT-RTX", False, None, "not installed (tensorrt-rtx-cu13-bindings)")
    try:
        rtx.libs_dir()
    except MissingRuntime as exc:
        return Component("TensorRT-RTX", False, version, str(exc))
    return Component("TensorRT-RTX", True, version, "builds plans on any machine; runs them on RTX GPUs only")


def gpu() -> Component:
    """The first GPU, as PyTorch or cuda-python see it."""
    try:
        import torch

        if torch.cuda.is_available():
            p = torch.cuda.get_device_properties(0)
            return Component("GPU", True, f"sm_{p.major}{p.minor}", f"{p.name}, {round(p.total_memory / 2**30, 1)} GiB, "
                             f"{torch.cuda.device_count()} device(s)")
    except Exception:  # noqa: BLE001 - try cuda-python next
        pass
    try:
        from demos.trt import buffers

        cudart = buffers._cudart()
        err, count = cudart.cudaGetDeviceCount()
        if int(err) == 0 and count > 0:
            err, props = cudart.cudaGetDeviceProperties(0)
            name = props.name.decode(errors="replace").rstrip("\0") if int(err) == 0 else "?"
            return Component("GPU", True, f"sm_{props.major}{props.minor}" if int(err) == 0 else None,
                             f"{name}, {count} device(s)")
        return Component("GPU", False, None, f"cuda-python: {buffers.error_name(cudart, err)}")
    except Exception as exc:  # noqa: BLE001
        return Component("GPU", False, None, f"neither PyTorch nor cuda-python sees a CUDA GPU ({_first_line(exc)})")


def cuda() -> Component:
    """CUDA runtime and driver versions (cuda-python), and the CUDA PyTorch was built for."""
    parts, versions = [], {}
    try:
        from demos.trt import buffers

        cudart = buffers._cudart()
        for key, call in (("runtime", cudart.cudaRuntimeGetVersion), ("driver", cudart.cudaDriverGetVersion)):
            err, value = call()
            if int(err) == 0 and value:
                versions[key] = f"{value // 1000}.{value % 1000 // 10}"
    except Exception:  # noqa: BLE001 - cuda-python absent
        pass
    try:
        import torch

        if torch.version.cuda:
            versions["torch"] = torch.version.cuda
    except ImportError:
        pass
    for key in ("runtime", "driver", "torch"):
        if key in versions:
            parts.append(f"{key} {versions[key]}")
    usable = "driver" in versions
    detail = ", ".join(parts) or "no CUDA runtime found"
    if not usable:
        detail += "; no NVIDIA driver"
    return Component("CUDA", usable, versions.get("runtime") or versions.get("torch"), detail)


def torch() -> Component:
    try:
        import torch as t
    except ImportError:
        return Component("PyTorch", False, None, "not installed")
    return Component("PyTorch", True, t.__version__, "CUDA available" if t.cuda.is_available() else "CPU only")


def cuda_python() -> Component:
    version = _version("cuda-bindings", "cuda-python")
    try:
        from demos.trt import buffers

        cudart = buffers._cudart()
    except Exception as exc:  # noqa: BLE001
        return Component("cuda-python", False, version, _first_line(exc))
    err, count = cudart.cudaGetDeviceCount()
    if int(err) != 0:
        return Component("cuda-python", False, version, f"installed; {buffers.error_name(cudart, err)}")
    return Component("cuda-python", count > 0, version, f"{count} device(s)")


def pycuda() -> Component:
    version = _version("pycuda")
    spec = importlib.util.find_spec("pycuda")
    if spec is None:
        return Component("pycuda", False, None, "not installed (builds from source against the CUDA toolkit)")
    primary = importlib.util.find_spec("pycuda.autoprimaryctx") is not None
    detail = "pycuda.autoprimaryctx present" if primary else "no pycuda.autoprimaryctx: needs pycuda >= 2021.1"
    return Component("pycuda", primary, version, detail)


def _library(name: str, module: str, *dists: str, note: str = "") -> Component:
    version = _version(*dists)
    if importlib.util.find_spec(module) is None:
        return Component(name, False, None, "not installed")
    return Component(name, True, version, note)


def probe() -> list[Component]:
    return [
        Component("Python", True, platform.python_version(), f"{platform.system()} {platform.machine()}"),
        tensorrt(), tensorrt_rtx(), gpu(), cuda(), torch(), cuda_python(), pycuda(),
        _library("ONNX", "onnx", "onnx", note="writes the tiny test models"),
        _library("ONNX Runtime", "onnxruntime", "onnxruntime", "onnxruntime-gpu", note="the numeric reference"),
        _library("ModelOpt", "modelopt", "nvidia-modelopt", note="ONNX PTQ, AutoCast and QAT (not imported here)"),
        _library("CuPy", "cupy", "cupy-cuda13x", "cupy-cuda12x", note="launches the IPluginV3 kernel"),
        _library("Triton", "triton", "triton", note="the quickly deployable plugin's kernel"),
    ]
