"""TensorRT-RTX plan builds in a child process (ahead of time, on any machine, even without a GPU).

TensorRT-RTX compiles a serialized plan on the CPU; the plan runs only on the GPUs TensorRT-RTX supports,
where kernel selection is finished at load time. The build runs in a child process started with
:func:`demos.trt.rtx.child_env`, which puts the ``libtensorrt_rtx.so`` symlink on ``LD_LIBRARY_PATH`` (the
parser ``dlopen``\\s that unversioned name, and the loader reads the variable only at process start). The child
also turns a hard abort of the parser into an error message instead of killing the caller.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from demos import files
from demos.errors import MissingRuntime, UserError
from demos.trt import rtx

REPO = Path(__file__).resolve().parents[2]


def import_bindings():
    """``tensorrt_rtx_bindings`` (in this process; use :func:`build_plan` for builds)."""
    rtx.libs_dir()  # one-line MissingRuntime if the wheel is absent
    try:
        import tensorrt_rtx_bindings
    except ImportError:
        raise MissingRuntime("TensorRT-RTX bindings are not installed (tensorrt-rtx-cu13-bindings)") from None
    return tensorrt_rtx_bindings


def version() -> str:
    import importlib.metadata as md

    return md.version("tensorrt-rtx-cu13-bindings")


def build_plan(onnx_path, plan_path, min_batch: int = 1, opt_batch: int = 32, max_batch: int = 256,
               timing_cache: Path | None = None, timeout: float = 900) -> dict:
    """Parse ``onnx_path`` and write a TensorRT-RTX plan to ``plan_path`` (atomically); return build info."""
    # The child runs from the repository root: hand it absolute paths, never the caller's relative ones.
    request = {"onnx": str(Path(onnx_path).resolve()), "plan": str(Path(plan_path).resolve()),
               "min": min_batch, "opt": opt_batch, "max": max_batch,
               "timing_cache": str(Path(timing_cache).resolve()) if timing_cache else None}
    env = rtx.child_env()
    env["PYTHONPATH"] = str(REPO)
    proc = subprocess.run([sys.executable, "-m", "demos.trt.rtx_build", json.dumps(request)], env=env,
                          cwd=REPO, capture_output=True, text=True, timeout=timeout)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        last = (proc.stderr.strip().splitlines() or proc.stdout.strip().splitlines() or ["no output"])[-1]
        raise UserError(f"TensorRT-RTX build of {Path(onnx_path).name} failed (exit {proc.returncode}): {last[:300]}")
    result = json.loads(lines[-1][len("RESULT "):])
    if "error" in result:
        raise UserError(result["error"])
    return result


def _worker(request: dict) -> dict:
    from demos.trt import builder

    trt_rtx = import_bindings()
    opts = builder.BuildOptions("rtx", request["min"], request["opt"], request["max"],
                                timing_cache=Path(request["timing_cache"]) if request.get("timing_cache") else None)
    plan, info = builder.build(trt_rtx, request["onnx"], opts)
    files.write_bytes(request["plan"], plan)
    info["plan"] = request["plan"]
    return info


if __name__ == "__main__":  # the child process
    try:
        result = _worker(json.loads(sys.argv[1]))
    except UserError as exc:
        result = {"error": str(exc)}
    print("RESULT " + json.dumps(result), flush=True)
