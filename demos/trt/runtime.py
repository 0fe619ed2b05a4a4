"""Loading and running TensorRT engines (TensorRT 10/11), checked against the version and GPU they need.

Each plan file ``X.plan`` has a sidecar ``X.plan.json`` written by the build stage: the ONNX file's hash, the
TensorRT version and the GPU (name, compute capability) it was built for. :class:`Engine` refuses, with a
one-line message, a plan from another TensorRT version or GPU (``deserialize_cuda_engine`` would return None
or, worse, run slowly on a different GPU).

A plan that contains plugin layers lists them in its sidecar (``"plugins"``, written by
:mod:`demos.plugins.build`); :class:`Engine` registers their creators before deserializing, because the
runtime re-creates each plugin from the plugin registry.

Inference uses ``execute_async_v3`` with tensor addresses; :meth:`Engine.benchmark` also captures the
enqueue in a CUDA graph (``torch.cuda.CUDAGraph``), which removes the per-launch CPU overhead.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from demos.errors import MissingRuntime, UserError
from demos.trt import buffers as buffers_mod
from demos.trt import loader


def unavailable_reason() -> str | None:
    """Why TensorRT engines cannot run here (no TensorRT, no GPU), or None."""
    return loader.missing_reason() or loader.gpu_reason()


def current_target(trt) -> dict:
    import torch

    p = torch.cuda.get_device_properties(0)
    return {"tensorrt_version": trt.__version__, "gpu": p.name, "compute_capability": f"{p.major}.{p.minor}"}


def build_target(trt, product: str = "TensorRT") -> dict:
    """What a plan built now is built for: the sidecar's ``target`` (the GPU only where one is visible)."""
    if product == "TensorRT-RTX":
        return {"tensorrt_rtx_version": trt.__version__, "gpu": None,
                "note": "ahead-of-time plan; kernels are finalized on the RTX GPU at load time"}
    if loader.gpu_reason() is None:
        return current_target(trt)
    return {"tensorrt_version": trt.__version__}


def read_sidecar(plan: Path) -> dict:
    side = Path(str(plan) + ".json")
    if not plan.is_file():
        raise UserError(f"engine not found: {plan} (run `python -m demos.resnet50 build` first)")
    if not side.is_file():
        raise UserError(f"{side} is missing: the engine's version/GPU record; rebuild the engine")
    try:
        return json.loads(side.read_text())
    except json.JSONDecodeError:
        raise UserError(f"{side} is corrupt; rebuild the engine") from None


def check_compatible(meta: dict, here: dict, name: str) -> None:
    """Refuse an engine built for another TensorRT version or GPU (one-line error naming both)."""
    target = meta.get("target") or {}
    if "tensorrt_rtx_version" in target:
        raise UserError(f"{name} is a TensorRT-RTX plan; load it with TensorRT-RTX on an RTX GPU, not with TensorRT")
    for key in ("tensorrt_version", "gpu", "compute_capability"):
        if target.get(key) not in (None, here.get(key)):
            raise UserError(f"{name} was built for {key.replace('_', ' ')} {target[key]}, this machine has "
                            f"{here.get(key)}; rebuild it here (build --force)")


class Engine:
    """A deserialized engine, its execution context and I/O buffers (one input, any number of outputs)."""

    def __init__(self, plan: str | Path, buffers: str = "torch"):
        plan = Path(plan)
        reason = unavailable_reason()
        if reason:
            raise MissingRuntime(f"cannot run {plan.name}: {reason}")
        trt = loader.tensorrt()
        meta = read_sidecar(plan)
        check_compatible(meta, current_target(trt), plan.name)
        register_plugins(meta, plan.name)  # before deserializing: TensorRT re-creates plugins from the registry
        self.logger = trt.Logger(trt.Logger.WARNING)
        self.runtime = trt.Runtime(self.logger)
        engine = self.runtime.deserialize_cuda_engine(plan.read_bytes())
        if engine is None:
            raise UserError(f"TensorRT {trt.__version__} cannot deserialize {plan} (corrupt, or from another "
                            "TensorRT version/GPU); rebuild it")
        self._attach(trt, engine, buffers_mod.create(buffers), meta, plan.name)

    @classmethod
    def attach(cls, trt, engine, buffers, meta: dict | None = None, name: str = "engine") -> Engine:
        """An :class:`Engine` around an ``ICudaEngine`` already deserialized, with the given buffers object."""
        self = cls.__new__(cls)
        self._attach(trt, engine, buffers, meta or {}, name)
        return self

    def _attach(self, trt, engine, buffers, meta: dict, name: str) -> None:
        self.trt = trt
        self.engine = engine
        self.meta = meta
        self.plugins = meta.get("plugins") or []
        names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
        self.inputs = [n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        self.outputs = [n for n in names if n not in self.inputs]
        if len(self.inputs) != 1:
            buffers.close()
            raise UserError(f"{name} has {len(self.inputs)} inputs; the demo expects one image input")
        self.context = engine.create_execution_context()
        self.buffers = buffers
        self.batch = None

    def profile_batch_range(self) -> tuple[int, int]:
        lo, _opt, hi = self.engine.get_tensor_profile_shape(self.inputs[0], 0)
        return lo[0], hi[0]

    def prepare(self, shape) -> None:
        """Allocate I/O for one input shape and bind the addresses (once per batch size)."""
        if self.batch == tuple(shape):
            return
        lo, hi = self.profile_batch_range()
        if not lo <= shape[0] <= hi:
            raise UserError(f"batch {shape[0]} is outside the engine's profile [{lo}, {hi}]; rebuild with "
                            "--min-batch/--max-batch covering it")
        name = self.inputs[0]
        expected = tuple(self.engine.get_tensor_shape(name))
        if len(expected) != len(shape) or any(e >= 0 and e != s for e, s in zip(expected, shape)):
            raise UserError(f"input shape {list(shape)} does not fit the engine's input {name} {list(expected)}")
        self.buffers.free()  # the old shape's memory; the stream stays
        if not self.context.set_input_shape(name, tuple(shape)):
            raise UserError(f"TensorRT rejected input shape {list(shape)}")
        for n in self.inputs + self.outputs:
            shp = tuple(self.context.get_tensor_shape(n))
            # The dtype goes to the buffers as trt.DataType: trt.nptype() has no BF16, FP8, INT4 or FP4.
            self.buffers.allocate(n, shp, self.engine.get_tensor_dtype(n))
            self.context.set_tensor_address(n, self.buffers.ptr(n))
        self.batch = tuple(shape)

    def enqueue(self) -> None:
        if not self.context.execute_async_v3(self.buffers.stream_handle):
            raise RuntimeError("execute_async_v3 failed")

    def infer(self, x: np.ndarray) -> np.ndarray:
        self.prepare(x.shape)
        self.buffers.upload(self.inputs[0], x)
        self.enqueue()
        self.buffers.synchronize()
        out = self.outputs[0]
        if self.buffers.types[out].packed:
            raise UserError(f"output {out} is {self.buffers.types[out].name} (packed); read its bytes with "
                            "engine.buffers.download()")
        return self.buffers.download(out).astype(np.float32)

    def benchmark(self, batch: int, shape_chw, iterations: int = 200, warmup: int = 50, repeats: int = 5,
                  cuda_graph: bool = True) -> dict:
        """Device-side timing with CUDA events; median over repeats. Input stays on the device."""
        import torch

        self.prepare((batch, *shape_chw))
        self.buffers.upload(self.inputs[0], np.random.default_rng(0).standard_normal((batch, *shape_chw)).astype(np.float32))
        stream = torch.cuda.ExternalStream(self.buffers.stream_handle) if not isinstance(
            self.buffers, buffers_mod.TorchBuffers) else self.buffers.stream
        run = self.enqueue
        graph_used = False
        if cuda_graph:
            try:
                self.enqueue()  # TensorRT needs one regular enqueue before capture (lazy initialization)
                stream.synchronize()
                graph = torch.cuda.CUDAGraph()
                with torch.cuda.graph(graph, stream=stream):
                    self.enqueue()
                run, graph_used = graph.replay, True
            except Exception as exc:  # e.g. a layer that is not stream-capturable
                print(f"CUDA graph capture failed ({exc.__class__.__name__}); timing plain enqueues")
        with torch.cuda.stream(stream):
            for _ in range(warmup):
                run()
            times = []
            for _ in range(repeats):
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record(stream)
                for _ in range(iterations):
                    run()
                end.record(stream)
                end.synchronize()
                times.append(start.elapsed_time(end) / iterations)
            per_batch_ms = []  # single launches for the latency distribution
            for _ in range(max(100, iterations)):
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record(stream)
                run()
                end.record(stream)
                end.synchronize()
                per_batch_ms.append(start.elapsed_time(end))
        median = float(np.median(times))
        return {"batch": batch, "cuda_graph": graph_used, "ms_per_batch_median": median,
                "images_per_s": batch * 1000.0 / median,
                "latency_ms": {p: float(np.percentile(per_batch_ms, q)) for p, q in (("p50", 50), ("p90", 90), ("p99", 99))},
                "repeats": repeats, "iterations": iterations, "warmup": warmup}

    def layer_report(self) -> dict:
        from demos.trt import inspector

        return inspector.report(self.trt, self.engine, self.context)

    def close(self) -> None:
        self.buffers.close()


def register_plugins(meta: dict, name: str) -> list[dict]:
    """Register the creators of the plugins a plan's sidecar lists, so TensorRT can re-create them."""
    plugins = meta.get("plugins") or []
    if plugins:
        from demos.plugins import registry

        registry.register_for_runtime(plugins, name)
    return plugins


def run_engine_batches(plan, batches, buffers: str = "torch") -> np.ndarray:
    eng = Engine(plan, buffers)
    try:
        return np.concatenate([eng.infer(x) for x in batches])
    finally:
        eng.close()

