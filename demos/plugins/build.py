"""Parse an ONNX model with the plugin node and build a serialized plan, with the creator registered.

The same code builds with TensorRT on a GPU machine and with TensorRT-RTX on a CPU-only one; with
TensorRT-RTX the builder runs every build-time plugin method (output types and shapes, format
negotiation, configuration, workspace, tactics, serialization) but cannot run the engine.  The ONNX parser
of TensorRT-RTX needs ``libtensorrt_rtx.so`` at process start (:mod:`demos.trt.rtx`):
:func:`build_in_child` runs the build in a child process that has it.

Each namespace in the model gets its own implementation registered (:mod:`demos.plugins.registry`).  A plan
written to a file gets a sidecar ``<plan>.json``: the ONNX hash, what the plan was built for and the plugins
it contains, which :class:`demos.trt.runtime.Engine` reads to check the plan and register the plugins' creators
before it deserializes the plan (``python -m demos.plugins run``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from demos import files
from demos.errors import MissingRuntime, UserError
from demos.plugins import PLUGIN_NAME, PLUGIN_VERSION, registry
from demos.trt import builder as trt_builder

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclasses.dataclass(frozen=True)
class Profile:
    """Optimization profile of the image input: (N, H, W) at min, opt and max; channels are 3."""

    min: tuple[int, int, int] = (1, 224, 224)
    opt: tuple[int, int, int] = (8, 224, 224)
    max: tuple[int, int, int] = (32, 512, 512)

    def shapes(self) -> tuple[tuple[int, ...], ...]:
        return tuple((*s, 3) for s in (self.min, self.opt, self.max))

    @staticmethod
    def parse(text: str) -> tuple[int, int, int]:
        try:
            n, h, w = (int(v) for v in text.lower().split("x"))
        except ValueError:
            raise UserError(f"shape {text!r} must look like NxHxW, e.g. 8x224x224") from None
        if min(n, h, w) < 1:
            raise UserError(f"shape {text!r} must be positive")
        return n, h, w


def _logger(trt):
    class CollectingLogger(trt.ILogger):
        """Keeps warnings and errors, so a failed build can say why."""

        def __init__(self):
            trt.ILogger.__init__(self)
            self.messages: list[tuple[str, str]] = []

        def log(self, severity, msg):
            name = str(severity).split(".")[-1]
            if name in ("INTERNAL_ERROR", "ERROR", "WARNING"):
                self.messages.append((name, msg))

        def errors(self) -> list[str]:
            return [m for s, m in self.messages if s != "WARNING"]

    return CollectingLogger()


def _first_line(text: str) -> str:
    return " ".join(text.split())[:400]


def _fail(what: str, plugin_errors: list[str], other: list[str]) -> UserError:
    # The plugin's own message says what to fix; TensorRT's only that a callback failed.
    reason = plugin_errors[0] if plugin_errors else (other[0] if other else "no message from TensorRT")
    return UserError(f"{what}: {_first_line(reason)}")


def build_plan(onnx_path: str | os.PathLike, *, profile: Profile = Profile(), plan_path: str | os.PathLike | None = None,
               onnx_checks: bool = True) -> dict:
    """Build a plan from ``onnx_path``; return a report (and write the plan to ``plan_path`` if given).

    ``onnx_checks=False`` skips the Python-side validation of the plugin nodes, leaving every check to
    the plugin's own callbacks inside TensorRT (used to test that second line of defence).
    """
    import onnx

    from demos.plugins import onnx_export, v3
    from demos.trt import rtx

    trt = v3.trt
    if v3.BACKEND == "TensorRT-RTX" and not rtx.parser_can_load():
        raise MissingRuntime("TensorRT-RTX's ONNX parser cannot load libtensorrt_rtx.so in this process; use "
                             "build_in_child() or `python -m demos.plugins build` (they set LD_LIBRARY_PATH)")
    path = Path(onnx_path)
    if not path.is_file():
        raise UserError(f"ONNX model not found: {path}")
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # protobuf DecodeError and friends
        raise UserError(f"{path} is not a valid ONNX file ({exc.__class__.__name__})") from None
    if onnx_checks:
        nodes = onnx_export.check_plugin_nodes(model)  # clear errors before TensorRT's terse ones
        namespaces = {namespace for _, _, namespace in nodes}
    else:
        nodes = []
        namespaces = {onnx_export.node_namespace(n) for n in onnx_export.plugin_nodes(model)}
    if not namespaces:
        raise UserError(f"{path} has no {PLUGIN_NAME} node; export it with `python -m demos.plugins export`")
    implementations = registry.register_all(namespaces)

    v3.CALLS.clear()
    v3.ERRORS.clear()
    logger = _logger(trt)
    builder = trt.Builder(logger)
    # Types come from the ONNX model (the Cast, the plugin's out_dtype), not from builder flags.
    network = builder.create_network(trt_builder.network_flags(trt, strongly_typed=True))
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(path.read_bytes()):
        errors = [parser.get_error(i).desc() for i in range(parser.num_errors)]
        raise _fail(f"TensorRT could not parse {path.name}", list(v3.ERRORS), errors)

    config = builder.create_builder_config()
    opt_profile = builder.create_optimization_profile()
    image = network.get_input(0)
    opt_profile.set_shape(image.name, *profile.shapes())
    config.add_optimization_profile(opt_profile)
    plan = builder.build_serialized_network(network, config)
    if plan is None:
        raise _fail(f"TensorRT could not build a plan from {path.name}", list(v3.ERRORS), logger.errors())
    data = bytes(plan)

    layers = [network.get_layer(i) for i in range(network.num_layers)]
    if not nodes:
        nodes = onnx_export.check_plugin_nodes(model)
    fields = nodes[0][1]
    raw = fields.raw()
    plugins = [{"name": PLUGIN_NAME, "version": PLUGIN_VERSION, "namespace": onnx_export.node_namespace(n),
                "aot": onnx_export.node_aot(n), "implementation": implementations[onnx_export.node_namespace(n)]}
               for n in onnx_export.plugin_nodes(model)]
    if plan_path is not None:
        files.write_bytes(plan_path, data)
        from demos.trt import runtime

        files.write_json(str(plan_path) + ".json", {
            "onnx": str(path), "onnx_sha256": files.sha256_file(path), "target": runtime.build_target(trt, v3.BACKEND),
            "plugins": plugins, "profile": {"min": list(profile.min), "opt": list(profile.opt), "max": list(profile.max)}})
    return {
        "tensorrt": {"product": v3.BACKEND, "version": trt.__version__},
        "onnx": path.name,
        "plugin": {"name": PLUGIN_NAME, "namespace": nodes[0][2], "fields": fields.describe()},
        "plugins": plugins,
        "profile": {"min": list(profile.shapes()[0]), "opt": list(profile.shapes()[1]), "max": list(profile.shapes()[2])},
        "network": {
            "inputs": [_tensor(network.get_input(i)) for i in range(network.num_inputs)],
            "outputs": [_tensor(network.get_output(i)) for i in range(network.num_outputs)],
            "layers": [{"name": layer.name, "type": str(layer.type).split(".")[-1]} for layer in layers],
        },
        "plugin_calls": dict(sorted(v3.CALLS.items())),
        "plan": {
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            # The serialized fields are in the plan: the runtime re-creates the plugin from them.
            "contains_fields": {name: raw[name].tobytes() in data for name in raw},
            "contains_plugin_name": PLUGIN_NAME.encode() in data,
        },
        "warnings": sorted({_first_line(m) for s, m in logger.messages if s == "WARNING"}),
    }


def _tensor(t) -> dict:
    return {"name": t.name, "dtype": str(t.dtype).split(".")[-1], "shape": [int(d) for d in t.shape]}


def build_in_child(onnx_path: str | os.PathLike, *, profile: Profile = Profile(),
                   plan_path: str | os.PathLike | None = None, onnx_checks: bool = True, timeout: float = 600) -> dict:
    """:func:`build_plan` in a child process whose ``LD_LIBRARY_PATH`` lets TensorRT-RTX's parser load."""
    from demos.trt import rtx

    env = rtx.child_env() if _uses_rtx() else dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="plugin-build-") as tmp:
        report_path = Path(tmp) / "report.json"
        cmd = [sys.executable, "-m", "demos.plugins", "build", "--onnx", str(onnx_path), "--report", str(report_path),
               "--min", "x".join(map(str, profile.min)), "--opt", "x".join(map(str, profile.opt)),
               "--max", "x".join(map(str, profile.max))]
        if plan_path is not None:
            cmd += ["--plan", str(plan_path)]
        if not onnx_checks:
            cmd.append("--skip-onnx-checks")
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0 or not report_path.is_file():
            lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
            errors = [ln for ln in lines if ln.startswith("error:")]
            reason = errors[-1][len("error:"):].strip() if errors else (lines[-1] if lines else "no output")
            raise UserError(f"plugin build failed (exit {proc.returncode}): {reason}")
        return json.loads(report_path.read_text(encoding="utf-8"))


def _uses_rtx() -> bool:
    """Whether the plugin code will bind to TensorRT-RTX (no TensorRT installed), without importing either."""
    import importlib.util

    return importlib.util.find_spec("tensorrt") is None and importlib.util.find_spec("tensorrt_rtx_bindings") is not None
