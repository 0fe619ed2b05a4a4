"""``PreprocessNHWC`` as an ``IPluginV3`` Python plugin, and its creator.

An ``IPluginV3`` object is one class with three capabilities, which TensorRT asks for by type through
``get_capability_interface``:

- core (``IPluginV3OneCore``): name, namespace, version;
- build (``IPluginV3OneBuild``): output dtypes and shapes, supported formats, configuration, workspace,
  tactics; called by the builder, also on a CPU-only machine with TensorRT-RTX;
- runtime (``IPluginV3OneRuntime``): ``enqueue`` (the CUDA kernel, through CuPy), shape changes, and
  ``get_fields_to_serialize``, what goes into the plan so the runtime can re-create the plugin.

The creator (``IPluginCreatorV3One``) turns a ``PluginFieldCollection`` into a plugin; the ONNX parser
calls it for a node whose op type is the plugin name, and the runtime calls it when it loads a plan.

Works with TensorRT 10/11 (``tensorrt``) and TensorRT-RTX (``tensorrt_rtx_bindings``), whichever is
installed, TensorRT first.  Exceptions raised inside TensorRT callbacks reach TensorRT only as a failed
call, so each callback also records its message in :data:`ERRORS` for :mod:`demos.plugins.build` to show.
"""

from __future__ import annotations

import collections
import functools

import numpy as np

from demos.errors import MissingRuntime
from demos.plugins import PLUGIN_NAME, PLUGIN_NAMESPACE, PLUGIN_VERSION
from demos.plugins.fields import PluginFieldError, PreprocessFields, check_dtype, check_format, check_shape, output_shape

try:
    import tensorrt as trt

    BACKEND = "TensorRT"
except ImportError:
    try:
        import tensorrt_rtx_bindings as trt

        BACKEND = "TensorRT-RTX"
    except ImportError:
        raise MissingRuntime("neither TensorRT (tensorrt) nor TensorRT-RTX (tensorrt_rtx_bindings) is installed: "
                             "`.venv/bin/pip install -r requirements.txt` installs TensorRT-RTX") from None

# Which callbacks TensorRT made, and the messages of those that failed (cleared by build.build_plan).
CALLS: collections.Counter = collections.Counter()
ERRORS: list[str] = []

# One entry per field: its name and the PluginFieldType it travels as.
FIELD_TYPES = {
    "mean": trt.PluginFieldType.FLOAT32,
    "std": trt.PluginFieldType.FLOAT32,
    "out_dtype": trt.PluginFieldType.CHAR,
}
_DTYPES = {trt.DataType.FLOAT: "float32", trt.DataType.HALF: "float16", trt.DataType.UINT8: "uint8",
           trt.DataType.INT8: "int8", trt.DataType.INT32: "int32", trt.DataType.INT64: "int64",
           trt.DataType.BOOL: "bool", trt.DataType.BF16: "bfloat16"}
_TRT_OUT = {"float32": trt.DataType.FLOAT, "float16": trt.DataType.HALF}


def dtype_name(dtype: trt.DataType) -> str:
    return _DTYPES.get(dtype, str(dtype).split(".")[-1].lower())


def _dims(dims) -> list[int]:
    return [int(d) for d in dims]


def _traced(method):
    """Count the call and keep the message of any exception (TensorRT only sees that the call failed)."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        CALLS[method.__name__] += 1
        try:
            return method(*args, **kwargs)
        except Exception as exc:
            ERRORS.append(f"{method.__name__}: {exc}")
            raise

    return wrapper


class FieldCollection:
    """A ``PluginFieldCollection`` together with the arrays it points to.

    ``trt.PluginField`` stores a pointer to the buffer it is given and does not keep the buffer alive, so
    whoever hands a collection to TensorRT must also hold its arrays: this class does both.
    """

    def __init__(self, fields: PreprocessFields):
        self.fields = fields
        self.arrays = fields.raw()
        self.collection = trt.PluginFieldCollection(
            [trt.PluginField(name, self.arrays[name], FIELD_TYPES[name]) for name in FIELD_TYPES])


def read_fields(field_collection: trt.PluginFieldCollection_) -> PreprocessFields:
    """Plugin fields from a collection, validated: a bad value raises PluginFieldError with the reason."""
    raw = {}
    for field in field_collection:
        if FIELD_TYPES.get(field.name) == trt.PluginFieldType.CHAR and field.type != trt.PluginFieldType.CHAR:
            raise PluginFieldError(f"field {field.name!r} must be a string (CHAR field), got {field.type}")
        raw[field.name] = np.array(field.data, copy=True)  # copy: TensorRT owns the buffer
    return PreprocessFields.from_raw(raw)


class PreprocessPlugin(trt.IPluginV3, trt.IPluginV3OneCore, trt.IPluginV3OneBuild, trt.IPluginV3OneRuntime):
    """uint8 image (cast to float16/float32), NHWC -> normalized NCHW float32/float16."""

    def __init__(self, fields: PreprocessFields, namespace: str = PLUGIN_NAMESPACE, phase=None):
        trt.IPluginV3.__init__(self)
        trt.IPluginV3OneCore.__init__(self)
        trt.IPluginV3OneBuild.__init__(self)
        trt.IPluginV3OneRuntime.__init__(self)
        # Core capability: who this plugin is (must match the creator's name, version and namespace).
        self.plugin_name = PLUGIN_NAME
        self.plugin_version = PLUGIN_VERSION
        self.plugin_namespace = namespace
        self.num_outputs = 1
        self.fields = fields
        self.phase = phase
        self._serialized = FieldCollection(fields)

    def get_capability_interface(self, capability_type: trt.PluginCapabilityType):
        return self  # one object implements core, build and runtime

    @_traced
    def clone(self) -> PreprocessPlugin:
        return PreprocessPlugin(self.fields, self.plugin_namespace, self.phase)

    # -- build capability --------------------------------------------------------------------------

    @_traced
    def get_output_data_types(self, input_types: list[trt.DataType]) -> list[trt.DataType]:
        if len(input_types) != 1:
            raise ValueError(f"takes one input (the image), got {len(input_types)}")
        check_dtype(dtype_name(input_types[0]))
        return [_TRT_OUT[self.fields.out_dtype]]

    @_traced
    def get_output_shapes(self, inputs: list[trt.DimsExprs], shape_inputs: list[trt.DimsExprs],
                          expr_builder: trt.IExprBuilder) -> list[trt.DimsExprs]:
        image = inputs[0]
        # Symbolic dimensions: constant ones are known now, dynamic ones (batch, H, W) only at run time.
        check_shape([image[i].get_constant_value() if image[i].is_constant() else None for i in range(len(image))])
        out = trt.DimsExprs(4)
        out[0] = image[0]  # N
        out[1] = expr_builder.constant(3)  # C
        out[2] = image[1]  # H
        out[3] = image[2]  # W
        return [out]

    @_traced
    def supports_format_combination(self, pos: int, in_out: list[trt.DynamicPluginTensorDesc], num_inputs: int) -> bool:
        # TensorRT asks position by position; answering False is how a plugin declines a combination.
        desc = in_out[pos].desc
        if desc.format != trt.TensorFormat.LINEAR:
            return False
        if pos < num_inputs:
            return desc.type in (trt.DataType.HALF, trt.DataType.FLOAT)
        return desc.type == _TRT_OUT[self.fields.out_dtype]

    @_traced
    def configure_plugin(self, inputs: list[trt.DynamicPluginTensorDesc], outputs: list[trt.DynamicPluginTensorDesc]) -> None:
        # Called with the profile's ranges (-1 marks a dynamic dimension in desc.dims).
        image = inputs[0]
        check_dtype(dtype_name(image.desc.type))
        check_shape(_dims(image.desc.dims))
        check_format(str(image.desc.format).split(".")[-1])

    @_traced
    def get_workspace_size(self, inputs: list[trt.DynamicPluginTensorDesc], outputs: list[trt.DynamicPluginTensorDesc]) -> int:
        return 0  # an elementwise kernel needs no scratch memory

    @_traced
    def get_valid_tactics(self) -> list[int]:
        return []  # one kernel, nothing to time against

    # -- runtime capability ------------------------------------------------------------------------

    @_traced
    def on_shape_change(self, inputs: list[trt.PluginTensorDesc], outputs: list[trt.PluginTensorDesc]) -> None:
        check_shape(_dims(inputs[0].dims))

    @_traced
    def set_tactic(self, tactic: int) -> None:
        pass

    @_traced
    def attach_to_context(self, context: trt.IPluginResourceContext) -> PreprocessPlugin:
        return self.clone()  # no per-context resources: each execution context gets its own copy

    @_traced
    def get_fields_to_serialize(self) -> trt.PluginFieldCollection_:
        return self._serialized.collection

    @_traced
    def enqueue(self, input_desc: list[trt.PluginTensorDesc], output_desc: list[trt.PluginTensorDesc],
                inputs: list[int], outputs: list[int], workspace: int, stream: int) -> None:
        import cupy

        from demos.plugins import cuda_kernel

        dims = tuple(_dims(input_desc[0].dims))
        image = cuda_kernel.device_array(inputs[0], dims, dtype_name(input_desc[0].type), self)
        out = cuda_kernel.device_array(outputs[0], output_shape(dims), dtype_name(output_desc[0].type), self)
        with cupy.cuda.ExternalStream(stream):  # TensorRT's stream, not CuPy's default one
            cuda_kernel.launch(image, out, self.fields)


class PreprocessCreator(trt.IPluginCreatorV3One):
    """Makes ``PreprocessPlugin`` objects from fields (ONNX attributes, Python, or a loaded plan)."""

    def __init__(self, namespace: str = PLUGIN_NAMESPACE):
        trt.IPluginCreatorV3One.__init__(self)
        self.name = PLUGIN_NAME
        self.plugin_version = PLUGIN_VERSION
        self.plugin_namespace = namespace
        # The fields the plugin takes, with their types (no values): what tools list for this plugin.
        self._empty = {name: np.zeros(0, np.int8 if t == trt.PluginFieldType.CHAR else np.float32)
                       for name, t in FIELD_TYPES.items()}
        self.field_names = trt.PluginFieldCollection(
            [trt.PluginField(name, self._empty[name], t) for name, t in FIELD_TYPES.items()])

    @_traced
    def create_plugin(self, name: str, field_collection: trt.PluginFieldCollection_, phase: trt.TensorRTPhase) -> PreprocessPlugin:
        # ``name`` is the layer's name (the ONNX node's), not the plugin's.
        return PreprocessPlugin(read_fields(field_collection), self.plugin_namespace, phase)


_REGISTERED: dict[str, PreprocessCreator] = {}


def register_creator(namespace: str = PLUGIN_NAMESPACE) -> PreprocessCreator:
    """Register the creator in TensorRT's plugin registry once per process (and keep it alive)."""
    if namespace not in _REGISTERED:
        creator = PreprocessCreator(namespace)
        if not trt.get_plugin_registry().register_creator(creator, namespace):
            raise RuntimeError(f"another {PLUGIN_NAME} version {PLUGIN_VERSION} creator is registered in "
                               f"namespace {namespace!r}")
        _REGISTERED[namespace] = creator
    return _REGISTERED[namespace]


def make_plugin(fields: PreprocessFields, namespace: str = PLUGIN_NAMESPACE) -> PreprocessPlugin:
    """A plugin for building a network with the API, made the way the parser makes one."""
    collection = FieldCollection(fields)
    return register_creator(namespace).create_plugin(PLUGIN_NAME, collection.collection, trt.TensorRTPhase.BUILD)


def add_to_network(network: trt.INetworkDefinition, image: trt.ITensor, fields: PreprocessFields,
                   namespace: str = PLUGIN_NAMESPACE) -> trt.IPluginV3Layer:
    """Add the plugin with the network API instead of the ONNX parser (TensorRT 10/11).

    ``image`` is the uint8 NHWC network input; it is cast to float16 first, as in the ONNX model.
    """
    if not hasattr(network, "add_plugin_v3"):
        raise MissingRuntime("this INetworkDefinition has no add_plugin_v3 (TensorRT-RTX): add the plugin "
                             "through the ONNX parser instead")
    half = network.add_cast(image, trt.float16).get_output(0)
    return network.add_plugin_v3([half], [], make_plugin(fields, namespace))
