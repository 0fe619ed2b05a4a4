"""The self-check's checks: each TensorRT path of the demos, on tiny models, where this machine can run it.

A check returns its measurements (passed), raises :class:`Skip` with the reason it cannot run here
(missing TensorRT, GPU, library), or raises anything else (failed: the path is broken on this machine).
Checks run in the order of :data:`CHECKS`; a later check may use what an earlier one built.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

import numpy as np

from demos.errors import MissingRuntime, UserError

BATCH = 32
# Largest error relative to the largest reference logit, and the top-1 agreement each precision must reach
# (these check that a path computes the right thing, not how accurate a format is).
TOLERANCE = {"fp32": (1e-4, 1.0), "fp16": (1e-2, 0.95), "int8": (5e-2, 0.9)}
KINDS = {"fp32": "FP32", "fp16": "FP16 (strongly typed)", "int8": "INT8 (Q/DQ)"}
BUFFER_KINDS = ("torch", "cuda-python", "pycuda")


class Skip(Exception):
    """This check cannot run on this machine; the message says why."""


@dataclasses.dataclass
class Result:
    name: str
    status: str  # passed | failed | skipped
    detail: str = ""
    metrics: dict = dataclasses.field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


class Context:
    """What the checks share: a work folder, the environment, the models and what was built."""

    def __init__(self, workdir: Path, environment: dict):
        self.workdir = Path(workdir)
        self.env = environment  # component name -> Component
        self.models: dict[str, Path] = {}
        self.plans: dict[str, Path] = {}
        self.plugin_skip: str | None = None
        self.x = None

    def has(self, component: str) -> bool:
        entry = self.env.get(component)
        return bool(entry and entry.available)

    def need(self, *components: str) -> None:
        missing = [c for c in components if not self.has(c)]
        if missing:
            raise Skip("needs " + ", ".join(missing) + " (see the environment table)")

    def model(self, kind: str) -> Path:
        """The tiny classifier of ``kind`` (fp32, fp16, int8) as an ONNX file."""
        if kind not in self.models:
            self.need("ONNX")
            from demos.selfcheck import models

            self.models[kind] = models.save(models.classifier(kind), self.workdir / f"classifier_{kind}.onnx")
        return self.models[kind]

    def inputs(self) -> np.ndarray:
        if self.x is None:
            from demos.selfcheck import models

            self.x = models.inputs(BATCH)
        return self.x

    def reference(self, kind: str) -> tuple[np.ndarray, str]:
        """The expected logits: ONNX Runtime on the same ONNX file, else the NumPy FP32 model."""
        from demos.selfcheck import models

        out = models.onnxruntime_outputs(self.model(kind), self.inputs()) if self.has("ONNX Runtime") else None
        if out is not None:
            return out, f"ONNX Runtime on classifier_{kind}.onnx"
        return models.reference(self.inputs()), "NumPy FP32 reference"


def compare(kind: str, out: np.ndarray, ctx: Context) -> dict:
    """Compare ``out`` with the reference; raise AssertionError beyond the kind's tolerance."""
    from demos.selfcheck import models

    ref, source = ctx.reference(kind)
    metrics = models.compare(out, ref)
    metrics["reference"] = source
    rel, top1 = TOLERANCE[kind]
    scale = float(np.abs(ref).max())
    if metrics["max_abs_err"] > rel * scale or metrics["top1_agreement"] < top1:
        raise AssertionError(f"max |error| {metrics['max_abs_err']:.3g} (allowed {rel * scale:.3g}), top-1 agreement "
                             f"{metrics['top1_agreement']:.2f} (needed {top1}) against {source}")
    return metrics


# -- CUDA buffers (no TensorRT needed) ----------------------------------------------------------------

def _expected(x: np.ndarray, name: str) -> np.ndarray | None:
    """What a round trip through a tensor of TensorRT type ``name`` must give back, as float32."""
    if name == "FLOAT":
        return x
    if name == "HALF":
        return x.astype(np.float16).astype(np.float32)
    if name == "INT8":
        return np.clip(np.round(x * 20), -128, 127).astype(np.int8).astype(np.float32)
    if name == "BF16":
        try:
            import torch

            return torch.from_numpy(x).to(torch.bfloat16).float().numpy()
        except ImportError:
            try:
                import ml_dtypes

                return x.astype(ml_dtypes.bfloat16).astype(np.float32)
            except ImportError:
                return None
    raise ValueError(name)


def exercise_buffers(kind: str) -> dict:
    """Allocate, upload, download, free and re-allocate on one stream, in four dtypes and three shapes;
    then close and make sure the closed object refuses to be used (D1: the stream outlives the buffers)."""
    from demos.trt import buffers

    try:
        b = buffers.create(kind)
    except MissingRuntime as exc:
        raise Skip(str(exc)) from None
    rng = np.random.default_rng(0)
    stream = b.stream_handle
    checked, notes, nbytes = [], [], 0
    for shape in [(2, 3, 4), (5, 7), (1,), (64, 3, 16, 16)]:
        b.free()  # the previous shape's buffers; the stream stays
        x = rng.standard_normal(shape).astype(np.float32)
        for name in ("FLOAT", "HALF", "INT8", "BF16"):
            expected = _expected(x, name)
            if expected is None:
                notes.append(f"{name} not checked: neither PyTorch nor ml_dtypes to convert on the host")
                continue
            source = expected if name != "INT8" else expected.astype(np.int8)
            try:
                b.allocate(name, shape, name)
                b.upload(name, source)
            except MissingRuntime as exc:  # e.g. BF16 host arrays need ml_dtypes
                notes.append(f"{name} not checked: {exc}")
                continue
            got = np.asarray(b.download(name)).astype(np.float32)
            if not np.array_equal(got.reshape(shape), expected):
                raise AssertionError(f"{kind} {name} {shape}: downloaded values differ from the uploaded ones")
            nbytes += b.nbytes(name)
            checked.append(f"{name}{list(shape)}")
        if b.stream_handle != stream:
            raise AssertionError(f"{kind}: the stream changed across free()")
    b.close()
    try:
        b.allocate("x", (1,), "FLOAT")
    except RuntimeError:
        pass
    else:
        raise AssertionError(f"{kind}: closed buffers accepted an allocation")
    metrics = {"round_trips": len(checked), "bytes": nbytes, "allocate_free_cycles": 4}
    if notes:
        metrics["notes"] = sorted(set(notes))
    return metrics


def check_torch_buffers(ctx: Context) -> dict:
    ctx.need("PyTorch", "GPU")
    return exercise_buffers("torch")


def check_cuda_python_buffers(ctx: Context) -> dict:
    ctx.need("cuda-python")
    return exercise_buffers("cuda-python")


def check_pycuda_buffers(ctx: Context) -> dict:
    ctx.need("pycuda", "GPU")
    metrics = exercise_buffers("pycuda")
    import pycuda.autoprimaryctx as auto
    import pycuda.driver as cuda

    primary = auto.device.retain_primary_context()
    try:
        current = cuda.Context.get_current()
        same = current is not None and getattr(current, "handle", None) == getattr(primary, "handle", object())
    finally:
        primary.detach()
    metrics["primary_context"] = same  # D2: TensorRT and the CUDA runtime use the primary context
    if not same:
        raise AssertionError("pycuda's current context is not the device's primary context")
    return metrics


# -- TensorRT-RTX builds (any machine) -------------------------------------------------------------------

def _rtx_jobs(ctx: Context) -> list[dict]:
    jobs = [{"name": k, "kind": "network", "onnx": str(ctx.model(k)), "plan": str(ctx.workdir / f"{k}.rtx.plan")}
            for k in KINDS]
    try:  # the plugin's ONNX helpers import PyTorch and onnxscript
        plugin = _plugin_model(ctx, "lowprec")
    except ImportError as exc:
        ctx.plugin_skip = f"the plugin model needs {exc.name or exc}"
    else:
        jobs.append({"name": "plugin", "kind": "plugin", "onnx": str(plugin), "plan": str(ctx.workdir / "plugin.rtx.plan")})
    return jobs


def rtx_builds(ctx: Context) -> dict:
    """Build every RTX job in one child process (the parser needs libtensorrt_rtx.so on LD_LIBRARY_PATH)."""
    if "rtx" in ctx.plans:
        return ctx.plans["rtx"]
    ctx.need("TensorRT-RTX", "ONNX")
    from demos.trt import rtx

    request = ctx.workdir / "rtx_jobs.json"
    request.write_text(json.dumps(_rtx_jobs(ctx)))
    env = rtx.child_env()
    repo = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [repo, env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-m", "demos.selfcheck.rtx_child", str(request)], env=env, cwd=repo,
                          capture_output=True, text=True, timeout=900)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise AssertionError(f"the TensorRT-RTX build process failed (exit {proc.returncode}): {last[:300]}")
    ctx.plans["rtx"] = json.loads(lines[-1][len("RESULT "):])
    return ctx.plans["rtx"]


def _rtx_result(ctx: Context, name: str) -> dict:
    result = rtx_builds(ctx)[name]
    if "error" in result:
        raise AssertionError(result["error"])
    return result


def check_rtx_network(kind: str):
    def run(ctx: Context) -> dict:
        r = _rtx_result(ctx, kind)
        net = r["network"]
        if kind == "fp16" and net["fp32_layers"]:
            raise AssertionError(f"FP32 layers left in the FP16 network: {net['fp32_layers'][:3]}")
        if kind == "int8" and net["dq_fed_layers"] < 2:
            raise AssertionError("the Conv and Gemm are not fed by DequantizeLinear")
        return {"plan_bytes": r["plan_bytes"], "precision_counts": net["precision_counts"],
                "dq_fed_layers": net["dq_fed_layers"], "tensorrt_rtx": r["tensorrt_version"],
                "not_run": "TensorRT-RTX plans run only on the RTX GPUs TensorRT-RTX supports"}

    return run


def check_rtx_plugin(ctx: Context) -> dict:
    rtx_builds(ctx)
    if ctx.plugin_skip:
        raise Skip(ctx.plugin_skip)
    r = _rtx_result(ctx, "plugin")
    missing = sorted({"get_output_data_types", "supports_format_combination", "get_fields_to_serialize"}
                     - set(r["plugin_calls"]))
    if missing or not all(r["plan"]["contains_fields"].values()):
        raise AssertionError(f"plugin build incomplete: callbacks not called {missing}, fields in plan "
                             f"{r['plan']['contains_fields']}")
    return {"plan_bytes": r["plan"]["bytes"], "plugin_callbacks": sum(r["plugin_calls"].values()),
            "tensorrt_rtx": r["tensorrt"]["version"], "not_run": "TensorRT-RTX plans run only on RTX GPUs"}


# -- TensorRT 10/11 builds and runs ------------------------------------------------------------------

def _trt(ctx: Context):
    ctx.need("TensorRT")
    from demos.trt import loader

    return loader.tensorrt()


def _write_plan(ctx: Context, name: str, plan: bytes, info: dict, trt) -> Path:
    from demos import files
    from demos.trt import runtime

    path = ctx.workdir / f"{name}.trt.plan"
    files.write_bytes(path, plan)
    files.write_json(str(path) + ".json", {**info, "target": runtime.build_target(trt)})
    return path


def check_trt_build(kind: str):
    def run(ctx: Context) -> dict:
        trt = _trt(ctx)
        from demos.trt import builder, loader

        flavor = "trt11" if loader.major(trt) >= 11 else "trt10"
        plan, info = builder.build(trt, ctx.model(kind), builder.BuildOptions(flavor, 1, BATCH, BATCH, 1.0))
        ctx.plans[kind] = _write_plan(ctx, kind, plan, info, trt)
        return {"plan_bytes": len(plan), "precision_counts": info["network"]["precision_counts"],
                "tf32": info["tf32"], "build_seconds": info["build_seconds"]}

    return run


def _run_engine(ctx: Context, plan: Path, buffers: str) -> np.ndarray:
    from demos.trt import runtime

    try:
        engine = runtime.Engine(plan, buffers)
    except MissingRuntime as exc:
        raise Skip(str(exc)) from None
    try:
        return engine.infer(ctx.inputs())
    finally:
        engine.close()


def check_trt_run(kind: str, buffers: str):
    def run(ctx: Context) -> dict:
        _trt(ctx)
        ctx.need("GPU")
        if kind not in ctx.plans:
            raise Skip(f"the {KINDS[kind]} engine was not built")
        return compare(kind, _run_engine(ctx, ctx.plans[kind], buffers), ctx)

    return run


def check_trt10_fp16_flag(ctx: Context) -> dict:
    trt = _trt(ctx)
    from demos.trt import builder, loader

    if loader.major(trt) >= 11:
        raise Skip(f"TensorRT {trt.__version__} has no weak typing (BuilderFlag.FP16 was removed in 11)")
    ctx.need("GPU")
    opts = builder.BuildOptions("trt10", 1, BATCH, BATCH, 1.0, strongly_typed=False, trt10_fp16=True)
    plan, info = builder.build(trt, ctx.model("fp32"), opts)
    path = _write_plan(ctx, "fp32_fp16flag", plan, info, trt)
    return compare("fp16", _run_engine(ctx, path, "torch"), ctx)


def check_trt10_entropy_calibrator(ctx: Context) -> dict:
    trt = _trt(ctx)
    from demos.trt import legacy

    try:
        legacy.require_trt10()
    except MissingRuntime as exc:
        raise Skip(str(exc)) from None
    from demos.selfcheck import models

    onnx_path, plan, cache = ctx.model("fp32"), ctx.workdir / "fp32_int8_legacy.trt.plan", ctx.workdir / "entropy.cache"
    batch = 8

    def batches():
        for seed in range(4):
            yield models.inputs(batch, seed=10 + seed)

    first = legacy.build_with_calibrator(onnx_path, plan, batches(), batch, cache)
    again = legacy.build_with_calibrator(onnx_path, plan, batches(), batch, cache)
    if first["calibration_images"] != 4 * batch or again["calibration_images"] != 0 or again["calibration_cache_status"] != "reused":
        raise AssertionError(f"calibrated {first['calibration_images']} then {again['calibration_images']} images "
                             f"({again['calibration_cache_status']}); the second build must read the cache")
    header = cache.read_text(errors="replace").splitlines()[0]
    metrics = compare("int8", _run_engine(ctx, plan, "torch"), ctx)
    metrics.update(cache_header=header, calibration_images=first["calibration_images"], tensorrt=trt.__version__)
    return metrics


# -- plugins, built and run ------------------------------------------------------------------------------

def _plugin_model(ctx: Context, namespace: str, aot: bool | None = None) -> Path:
    ctx.need("ONNX")
    import onnx

    from demos.plugins import onnx_export
    from demos.plugins.fields import IMAGENET

    name = f"plugin_{namespace}" + ("" if aot is None else ("_aot" if aot else "_jit"))
    path = ctx.workdir / f"{name}.onnx"
    if not path.exists():
        onnx.save(onnx_export.plugin_only_model(IMAGENET, namespace, aot), str(path))
    return path


def check_plugin(namespace: str, aot: bool | None, needs: tuple[str, ...]):
    def run(ctx: Context) -> dict:
        trt = _trt(ctx)
        ctx.need("GPU", *needs)
        from demos.plugins import QUICK_NAMESPACE
        from demos.plugins.build import Profile, build_plan
        from demos.plugins.run import run_plan

        if namespace == QUICK_NAMESPACE and tuple(int(p) for p in trt.__version__.split(".")[:2]) < (10, 9):
            raise Skip(f"the quickly deployable plugin needs TensorRT >= 10.9, found {trt.__version__}")
        model = _plugin_model(ctx, namespace, aot)
        plan = ctx.workdir / (model.stem + ".trt.plan")
        report = build_plan(model, profile=Profile(min=(1, 8, 8), opt=(2, 32, 48), max=(4, 64, 64)), plan_path=plan)
        result = run_plan(plan, "torch", shape=(2, 32, 48))
        err = result.get("max_abs_err_vs_numpy")
        if err is None or err > 1e-6:
            raise AssertionError(f"plugin output differs from the NumPy reference: max |error| {err}")
        return {"max_abs_err_vs_numpy": err, "plan_bytes": report["plan"]["bytes"],
                "implementation": report["plugins"][0]["implementation"], "aot": report["plugins"][0]["aot"]}

    return run


CHECKS = [
    ("CUDA buffers: torch", check_torch_buffers),
    ("CUDA buffers: cuda-python", check_cuda_python_buffers),
    ("CUDA buffers: pycuda", check_pycuda_buffers),
    *[(f"TensorRT-RTX build: {KINDS[k]}", check_rtx_network(k)) for k in KINDS],
    ("TensorRT-RTX build: IPluginV3 plugin", check_rtx_plugin),
    *[(f"TensorRT build: {KINDS[k]}", check_trt_build(k)) for k in KINDS],
    *[(f"TensorRT run: {KINDS[k]}, {b} buffers", check_trt_run(k, b)) for k in KINDS for b in BUFFER_KINDS],
    ("TensorRT 10: BuilderFlag.FP16 (weak typing)", check_trt10_fp16_flag),
    ("TensorRT 10: entropy calibrator and its cache", check_trt10_entropy_calibrator),
    ("Plugin: IPluginV3 (lowprec), built and run", check_plugin("lowprec", None, ("CuPy",))),
    ("Plugin: quickly deployable, AOT, built and run", check_plugin("lowprec_qdp", True, ("Triton",))),
    ("Plugin: quickly deployable, JIT, built and run", check_plugin("lowprec_qdp", False, ("Triton", "PyTorch"))),
]


def run_all(ctx: Context, only: str | None = None, progress=None) -> list[Result]:
    results = []
    for name, fn in CHECKS:
        if only and only.lower() not in name.lower():
            continue
        t0 = time.perf_counter()
        try:
            metrics = fn(ctx)
            result = Result(name, "passed", metrics=metrics or {})
        except Skip as exc:
            result = Result(name, "skipped", str(exc))
        except (UserError, AssertionError) as exc:
            result = Result(name, "failed", " ".join(str(exc).split())[:400])
        except Exception as exc:  # noqa: BLE001 - a broken path: keep the traceback in the JSON
            result = Result(name, "failed", f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}",
                            metrics={"traceback": traceback.format_exc()[-3000:]})
        result.seconds = round(time.perf_counter() - t0, 2)
        results.append(result)
        if progress:
            progress(result)
    return results
