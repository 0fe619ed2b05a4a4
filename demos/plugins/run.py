"""Run a plan that contains the plugin: deserialize it with the creators registered, feed uint8 images.

:class:`demos.trt.runtime.Engine` reads the plan's sidecar (written by :mod:`demos.plugins.build`), refuses a
plan from another TensorRT version or GPU, registers the plugins' creators, then deserializes the plan.  For a
plan of the plugin alone (``python -m demos.plugins export --plugin-only``) the output is compared with the
NumPy reference; for a plugin followed by a network, its shape and finiteness are reported.
Needs TensorRT and a GPU (CuPy for the IPluginV3 kernel, Triton and PyTorch for the JIT quickly deployable
plugin); TensorRT-RTX plans run only on the GPUs TensorRT-RTX supports.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from demos.plugins import PLUGIN_NAME


def plugin_only(onnx_path) -> bool:
    """Whether the model is just Cast + plugin (its output is the plugin's, comparable with the reference)."""
    import onnx

    path = Path(onnx_path)
    if not path.is_file():
        return False
    return [n.op_type for n in onnx.load(str(path)).graph.node] == ["Cast", PLUGIN_NAME]


def run_plan(plan, buffers: str = "torch", shape: tuple[int, int, int] | None = None, seed: int = 0) -> dict:
    """Run ``plan`` once on random uint8 images of ``shape`` (N, H, W; default: the profile's opt shape)."""
    import onnx

    from demos.plugins import onnx_export
    from demos.plugins.reference import preprocess_numpy
    from demos.trt import runtime

    engine = runtime.Engine(plan, buffers)
    try:
        n, h, w = shape or tuple(engine.meta.get("profile", {}).get("opt", (2, 64, 64)))
        images = np.random.default_rng(seed).integers(0, 256, size=(n, h, w, 3), dtype=np.uint8)
        out = engine.infer(images)
        result = {"plan": str(plan), "buffers": buffers, "input": list(images.shape), "output": list(out.shape),
                  "finite": bool(np.isfinite(out).all()), "plugins": engine.plugins}
        source = engine.meta.get("onnx")
        if source and plugin_only(source):
            [node] = onnx_export.plugin_nodes(onnx.load(source))
            fields, _, _ = onnx_export.node_fields(node)
            ref = preprocess_numpy(images, fields).astype(np.float32)
            result["max_abs_err_vs_numpy"] = float(np.abs(out - ref).max())
        return result
    finally:
        engine.close()
