"""Which implementation serves which plugin namespace, and making it known to TensorRT.

The ONNX node's ``plugin_namespace`` picks the implementation, and the parser (at build time) and the runtime
(when it loads a plan) find it in TensorRT's plugin registry under that namespace:

- ``lowprec``: the ``IPluginV3`` class; its creator is registered by :func:`demos.plugins.v3.register_creator`;
- ``lowprec_qdp``: the quickly deployable plugin; importing :mod:`demos.plugins.quick` registers it through
  ``tensorrt.plugin`` (TensorRT >= 10.9).  Registering the ``IPluginV3`` creator there as well would make the
  parser pick the class and never the quickly deployable plugin, and ``tensorrt.plugin`` would then refuse
  its own registration ("another creator is registered").  TensorRT-RTX has no ``tensorrt.plugin``.

At run time a plan built with the AOT implementation needs nothing: its kernel is in the plan.
"""

from __future__ import annotations

import importlib.util

from demos.errors import UserError
from demos.plugins import PLUGIN_NAME, PLUGIN_NAMESPACE, QUICK_NAMESPACE

IMPLEMENTATIONS = {
    PLUGIN_NAMESPACE: "IPluginV3 class (demos.plugins.v3)",
    QUICK_NAMESPACE: "quickly deployable plugin (demos.plugins.quick, tensorrt.plugin)",
}


def backend() -> str:
    """"TensorRT" or "TensorRT-RTX": what :mod:`demos.plugins.v3` binds to (TensorRT first)."""
    if importlib.util.find_spec("tensorrt") is not None:
        return "TensorRT"
    return "TensorRT-RTX" if importlib.util.find_spec("tensorrt_rtx_bindings") is not None else "none"


def register(namespace: str) -> str:
    """Make the creator of ``namespace`` available in this process; return which implementation it is."""
    if namespace == PLUGIN_NAMESPACE:
        from demos.plugins import v3

        v3.register_creator(namespace)
    elif namespace == QUICK_NAMESPACE:
        if backend() != "TensorRT":
            raise UserError(f"namespace {QUICK_NAMESPACE} is the tensorrt.plugin version of {PLUGIN_NAME}, which needs "
                            f"TensorRT >= 10.9; {backend()} has no tensorrt.plugin: export with --namespace "
                            f"{PLUGIN_NAMESPACE}")
        import demos.plugins.quick  # noqa: F401  (registers lowprec_qdp::PreprocessNHWC)
    else:
        raise UserError(f"no {PLUGIN_NAME} implementation for plugin_namespace {namespace!r}; use "
                        f"{PLUGIN_NAMESPACE} or {QUICK_NAMESPACE}")
    return IMPLEMENTATIONS[namespace]


def register_all(namespaces) -> dict[str, str]:
    return {ns: register(ns) for ns in sorted(set(namespaces))}


def register_for_runtime(plugins: list[dict], plan_name: str) -> list[str]:
    """Register what a plan's sidecar lists (``{"name", "namespace", "aot"}`` each) before deserializing it.

    Returns the namespaces registered; AOT quickly deployable plugins need nothing.
    """
    done = []
    for entry in plugins:
        if entry.get("name") != PLUGIN_NAME:
            raise UserError(f"{plan_name} contains plugin {entry.get('name')!r}, which this demo does not provide")
        if entry.get("namespace") == QUICK_NAMESPACE and entry.get("aot"):
            continue  # the compiled kernel is in the plan
        register(entry.get("namespace", ""))
        done.append(entry["namespace"])
    return done
