"""Exercise demos.plugins.quick and demos.plugins.v3 against the real TensorRT 10/11 Python bindings.

Run by test_trt_bindings.py in a child process, with the binding wheel unpacked by paddle_style_guide.trt_api
and its stub libnvinfer on LD_LIBRARY_PATH (no TensorRT runtime can be installed here).  Only pure-Python
and binding-side code runs: the plugin registry is replaced by a dictionary, and nothing that would reach
libnvinfer (builder, network, engine) is called; a call that did would abort with "trt_api stub".
Prints one JSON object.
"""

import json
import os
import sys

site = sys.argv[1]
repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path[:0] = [site, repo]

import numpy as np  # noqa: E402
import tensorrt_bindings  # noqa: E402

sys.modules["tensorrt"] = tensorrt_bindings  # the wheel's package, under the name user code imports
trt = tensorrt_bindings


class DictRegistry:
    """Stands in for trt.get_plugin_registry(), which lives in libnvinfer."""

    def __init__(self):
        self.creators = {}

    def register_creator(self, creator, namespace=""):
        key = (creator.name, creator.plugin_version, namespace)
        if key in self.creators:
            return False
        self.creators[key] = creator
        return True

    def get_creator(self, name, version, namespace=""):
        return self.creators.get((name, version, namespace))


registry = DictRegistry()
trt.get_plugin_registry = lambda: registry

import tensorrt.plugin as trtp  # noqa: E402
from tensorrt.plugin import _lib  # noqa: E402

from demos.plugins import PLUGIN_NAME, PLUGIN_NAMESPACE, QUICK_NAMESPACE, quick, triton_kernel, v3  # noqa: E402
from demos.plugins.fields import IMAGENET  # noqa: E402

out = {"version": trt.__version__, "v3_binds": v3.BACKEND}


def rejected(fn, *args):
    try:
        fn(*args)
    except Exception as exc:  # noqa: BLE001 - report whatever the plugin raised
        return f"{type(exc).__name__}: {exc}"
    return None


# -- quickly deployable plugin --------------------------------------------------------------------
definition = _lib.QDP_REGISTRY[quick.PLUGIN_ID]
out["qdp"] = {
    "registered": [list(k) for k in registry.creators],
    "inputs": definition.input_tensor_names,
    "attributes": list(definition.input_attrs),
    "impl_attributes": definition.impl_attr_names,
    "aot_impl_attributes": definition.aot_impl_attr_names,
    "autotune_attributes": definition.autotune_attr_names,
    "has_impl": definition.impl_func is not None,
    "has_aot_impl": definition.aot_impl_func is not None,
}
creator = registry.get_creator(PLUGIN_NAME, "1", QUICK_NAMESPACE)
raw = IMAGENET.with_out_dtype("float16").raw()  # as the ONNX parser passes them: out_dtype ends in NUL
fields = trt.PluginFieldCollection([
    trt.PluginField("mean", raw["mean"], trt.PluginFieldType.FLOAT32),
    trt.PluginField("std", raw["std"], trt.PluginFieldType.FLOAT32),
    trt.PluginField("out_dtype", raw["out_dtype"], trt.PluginFieldType.CHAR)])
jit = creator.create_plugin(PLUGIN_NAME, QUICK_NAMESPACE, fields, trt.TensorRTPhase.BUILD)
aot = creator.create_plugin(PLUGIN_NAME, QUICK_NAMESPACE, fields, trt.TensorRTPhase.BUILD,
                            trt.QuickPluginCreationRequest.STRICT_AOT)
out["qdp"]["jit_class"] = type(jit).__name__
out["qdp"]["aot_class"] = type(aot).__name__
out["qdp"]["output_types"] = [str(t) for t in jit.get_output_data_types([trt.DataType.HALF], [4])]
out["qdp"]["aot_output_types"] = [str(t) for t in aot.get_output_data_types([trt.DataType.FLOAT], [4])]
out["qdp"]["uint8_rejected"] = rejected(jit.get_output_data_types, [trt.DataType.UINT8], [4])
out["qdp"]["rank3_rejected"] = rejected(jit.get_output_data_types, [trt.DataType.HALF], [3])
bad = dict(raw, std=np.float32([1, 0, 1]))
bad_fields = trt.PluginFieldCollection([trt.PluginField(k, bad[k], t) for k, t in v3.FIELD_TYPES.items()])
bad_plugin = creator.create_plugin(PLUGIN_NAME, QUICK_NAMESPACE, bad_fields, trt.TensorRTPhase.BUILD)
out["qdp"]["bad_field_rejected"] = rejected(bad_plugin.get_output_data_types, [trt.DataType.HALF], [4])

desc = trtp.TensorDesc()
desc.dtype = trt.float16
desc.shape_expr = trtp.ShapeExprs(4, _is_dummy=True)
combinations = quick.preprocess_autotune(desc, "float16\0", (desc,))
out["qdp"]["autotune"] = [[str(c) for c in comb._get_combinations()] for comb in combinations]

# The AOT implementation with a named GPU target, so Triton compiles without a GPU.
from triton.backends.compiler import GPUTarget  # noqa: E402

compile_aot = triton_kernel.compile_aot
triton_kernel.compile_aot = lambda in_dtype, f, target=None: compile_aot(in_dtype, f, target=GPUTarget("cuda", 80, 32))
name, ptx, launch, extra = quick.preprocess_aot_impl(desc, raw["mean"], raw["std"], "float16", (desc,), 0)
out["qdp"]["aot"] = {"kernel": name, "ptx_entry": f".entry {name}" in ptx, "launch": type(launch).__name__,
                     "extra_args": len(extra)}

# -- IPluginV3 class against these bindings ---------------------------------------------------------
plugin = v3.make_plugin(IMAGENET.with_out_dtype("float16"))
again = v3.register_creator().create_plugin("layer", plugin.get_fields_to_serialize(), trt.TensorRTPhase.RUNTIME)
d = [trt.DynamicPluginTensorDesc(), trt.DynamicPluginTensorDesc()]
for x in d:
    x.desc.type = trt.DataType.HALF
    x.desc.format = trt.TensorFormat.LINEAR
out["v3"] = {
    "registered": [PLUGIN_NAME, "1", PLUGIN_NAMESPACE] in [list(k) for k in registry.creators],
    "round_trip": again.fields == plugin.fields,
    "output_types": [str(t) for t in plugin.get_output_data_types([trt.DataType.FLOAT])],
    "formats": [plugin.supports_format_combination(0, d, 1), plugin.supports_format_combination(1, d, 1)],
    "uint8_rejected": rejected(plugin.get_output_data_types, [trt.DataType.UINT8]),
    "has_add_plugin_v3": hasattr(trt.INetworkDefinition, "add_plugin_v3"),
}
print(json.dumps(out))
