"""The ONNX side: a PyTorch custom op that exports as a TensorRT plugin node.

In PyTorch the preprocessing is a custom op, ``torch.ops.lowprec.preprocess_nhwc``, whose implementation is
the PyTorch reference, so the model runs (and can be tested) in PyTorch as it is.  When exporting,
a translation function replaces the op with two ONNX nodes:

- ``Cast(to=FLOAT16)``: TensorRT plugins cannot take UINT8 tensors, so the uint8 image enters the engine
  (4x fewer bytes than float32) and is cast on the GPU; float16 holds 0..255 exactly;
- ``PreprocessNHWC`` in the ``lowprec`` domain, whose op type is the plugin name and whose attributes are
  the plugin fields plus ``plugin_namespace`` and ``plugin_version``.  TensorRT's ONNX parser has no
  importer for this op type, so it looks the name up in the plugin registry and calls the creator with
  the attributes as fields.  For the quickly deployable plugin (``lowprec_qdp``) the node also carries
  ``aot`` (an integer, 1 or 0): without it the parser always takes the just-in-time implementation, with
  ``aot=1`` the ahead-of-time one, whose compiled kernel goes into the plan (NVIDIA's
  ``samples/python/quickly_deployable_plugins``, "ONNX model with an AOT plugin").

The ONNX schema below describes the node to the exporter; TensorRT never sees it.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import helper
from onnx.defs import OpSchema
from onnxscript import opset18 as op
from onnxscript import values

from demos import files
from demos.errors import UserError
from demos.plugins import PLUGIN_NAME, PLUGIN_NAMESPACE, PLUGIN_VERSION, QUICK_NAMESPACE
from demos.plugins.fields import PluginInputError, PreprocessFields, check_dtype, check_shape
from demos.plugins.reference import preprocess_torch

DOMAIN = "lowprec"  # the ONNX domain of the node; TensorRT >= 10.10 also reads a namespace from it
# Attributes the parser consumes itself; everything else reaches the creator as a plugin field.
PARSER_ATTRIBUTES = ("plugin_namespace", "plugin_version", "aot")


# -- PyTorch: the custom op --------------------------------------------------------------------------


@torch.library.custom_op("lowprec::preprocess_nhwc", mutates_args=())
def preprocess_nhwc(image: torch.Tensor, mean: list[float], std: list[float], out_dtype: str) -> torch.Tensor:
    """uint8 NHWC image -> normalized NCHW tensor (the PyTorch reference does the work)."""
    return preprocess_torch(image, PreprocessFields(mean=mean, std=std, out_dtype=out_dtype))


@preprocess_nhwc.register_fake
def _(image, mean, std, out_dtype):
    n, h, w, c = image.shape
    return image.new_empty((n, c, h, w), dtype=getattr(torch, out_dtype))


class WithPreprocess(torch.nn.Module):
    """``model`` (NCHW float input) preceded by the preprocessing op: the result takes uint8 NHWC images."""

    def __init__(self, model: torch.nn.Module, fields: PreprocessFields):
        super().__init__()
        self.model = model
        self.fields = fields

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        f = self.fields
        x = torch.ops.lowprec.preprocess_nhwc(image, list(f.mean), list(f.std), f.out_dtype)
        return self.model(x)


def resnet_stem(seed: int = 0) -> torch.nn.Module:
    """ResNet50's first block (conv 7x7/2, batch norm, ReLU, max-pool 3x3/2) with seeded random weights.

    Enough network around the plugin to show how its output feeds a convolution; not a trained model.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        stem = torch.nn.Sequential(
            torch.nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False),
            torch.nn.BatchNorm2d(64),
            torch.nn.ReLU(inplace=True),
            torch.nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        )
    return stem.eval()


# -- ONNX: the plugin node ---------------------------------------------------------------------------


SCHEMA = OpSchema(
    PLUGIN_NAME, DOMAIN, 1,
    doc="TensorRT plugin: NHWC image -> (x - mean) / std in NCHW. Executed by TensorRT, not by ONNX Runtime.",
    inputs=[OpSchema.FormalParameter("image", "T")],
    outputs=[OpSchema.FormalParameter("output", "U")],
    type_constraints=[("T", ["tensor(float16)", "tensor(float)"], "the image, cast from uint8"),
                      ("U", ["tensor(float16)", "tensor(float)"], "out_dtype")],
    attributes=[
        OpSchema.Attribute("mean", OpSchema.AttrType.FLOATS, "per-channel mean, pixel units"),
        OpSchema.Attribute("std", OpSchema.AttrType.FLOATS, "per-channel standard deviation, pixel units"),
        OpSchema.Attribute("out_dtype", OpSchema.AttrType.STRING, "float32 or float16"),
        OpSchema.Attribute("plugin_namespace", OpSchema.AttrType.STRING, "plugin registry namespace"),
        OpSchema.Attribute("plugin_version", OpSchema.AttrType.STRING, "plugin version"),
        OpSchema.Attribute("aot", OpSchema.AttrType.INT, "quickly deployable plugins: 1 = ahead-of-time implementation",
                           required=False),
    ],
)  # fmt: skip
_PLUGIN_OP = values.Op(values.Opset(DOMAIN, 1), PLUGIN_NAME, SCHEMA)


def aot_attribute(namespace: str, aot: bool | None) -> dict:
    """The ``aot`` attribute a node of ``namespace`` gets: {"aot": 1 or 0} for the quickly deployable plugin
    (AOT unless ``aot`` is False), nothing for the IPluginV3 class, which has no AOT variant."""
    if namespace == QUICK_NAMESPACE:
        return {"aot": 0 if aot is False else 1}
    if aot:
        raise UserError(f"aot applies to the quickly deployable plugin ({QUICK_NAMESPACE}), not to namespace {namespace!r}")
    return {}


def translation(namespace: str = PLUGIN_NAMESPACE, aot: bool | None = None):
    """The ONNX translation of the custom op for ``torch.onnx.export``'s ``custom_translation_table``."""
    extra = aot_attribute(namespace, aot)

    def preprocess_to_onnx(image, mean, std, out_dtype):
        as_half = op.Cast(image, to=onnx.TensorProto.FLOAT16)
        return _PLUGIN_OP(as_half, mean=mean, std=std, out_dtype=out_dtype,
                          plugin_namespace=namespace, plugin_version=PLUGIN_VERSION, **extra)

    return preprocess_to_onnx


def export(model: torch.nn.Module, path: str | os.PathLike, *, namespace: str = PLUGIN_NAMESPACE,
           aot: bool | None = None, example_hw: tuple[int, int] = (224, 224), dynamic: bool = True) -> Path:
    """Export a model that calls the custom op; the ONNX input is ``image`` (uint8, N x H x W x 3).

    With ``dynamic`` the batch, height and width are symbolic, so one plan serves every size in its
    optimization profile.  ``aot`` (quickly deployable plugin only): False selects the just-in-time
    implementation; the default is the ahead-of-time one.
    """
    image = torch.zeros((2, *example_hw, 3), dtype=torch.uint8)
    dynamic_shapes = None
    if dynamic:
        dims = {0: torch.export.Dim("batch", min=1, max=1024), 1: torch.export.Dim("height", min=32, max=4096),
                2: torch.export.Dim("width", min=32, max=4096)}
        dynamic_shapes = (dims,)
    table = {torch.ops.lowprec.preprocess_nhwc.default: translation(namespace, aot)}
    with contextlib.redirect_stdout(io.StringIO()):  # the exporter narrates every step on stdout
        program = torch.onnx.export(model.eval(), (image,), dynamo=True, custom_translation_table=table,
                                    input_names=["image"], output_names=["output"],
                                    dynamic_shapes=dynamic_shapes, optimize=True)
    proto = program.model_proto
    onnx.checker.check_model(proto)
    check_plugin_nodes(proto)
    with files.atomic_path(path, suffix=".onnx") as tmp:
        onnx.save(proto, str(tmp))
    return Path(path)


# -- checks before TensorRT sees the model -------------------------------------------------------------


def _tensor_types(graph: onnx.GraphProto) -> dict[str, tuple[str, list]]:
    """name -> (NumPy dtype name, dims) for every tensor whose type the graph declares."""
    out = {}
    for info in list(graph.input) + list(graph.value_info) + list(graph.output):
        t = info.type.tensor_type
        if not t.elem_type:
            continue
        dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in t.shape.dim]
        out[info.name] = (np.dtype(helper.tensor_dtype_to_np_dtype(t.elem_type)).name, dims)
    for node in graph.node:  # a Cast's output type is known even without value_info
        if node.op_type == "Cast" and node.output[0] not in out:
            to = next(a.i for a in node.attribute if a.name == "to")
            out[node.output[0]] = (np.dtype(helper.tensor_dtype_to_np_dtype(to)).name, None)
    return out


def plugin_nodes(model: onnx.ModelProto) -> list[onnx.NodeProto]:
    return [n for n in model.graph.node if n.op_type == PLUGIN_NAME]


def node_namespace(node: onnx.NodeProto) -> str:
    """The ``plugin_namespace`` attribute of a plugin node ("" if absent), without validating the rest."""
    for a in node.attribute:
        if a.name == "plugin_namespace":
            return a.s.decode()
    return ""


def node_fields(node: onnx.NodeProto) -> tuple[PreprocessFields, str, str]:
    """(fields, plugin_namespace, plugin_version) of a plugin node, validated."""
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    namespace = attrs.pop("plugin_namespace", b"").decode()
    version = attrs.pop("plugin_version", b"1").decode()
    aot = attrs.pop("aot", None)
    if aot is not None and (namespace != QUICK_NAMESPACE or aot not in (0, 1)):
        raise UserError(f"aot={aot!r}: only nodes of namespace {QUICK_NAMESPACE} take aot, as 0 or 1")
    return PreprocessFields.from_raw(attrs), namespace, version


def node_aot(node: onnx.NodeProto) -> bool | None:
    """The node's ``aot`` attribute (None if absent: TensorRT then takes the JIT implementation)."""
    for a in node.attribute:
        if a.name == "aot":
            return bool(a.i)
    return None


def check_plugin_nodes(model: onnx.ModelProto) -> list[tuple[str, PreprocessFields, str]]:
    """Validate every plugin node (fields, input dtype and shape) with clear errors; return what was found.

    TensorRT would reject the same mistakes, but only as "could not create the plugin" or a failed
    callback; checking here says which field or input is wrong and what to do.
    """
    types = _tensor_types(model.graph)
    found = []
    for node in plugin_nodes(model):
        where = f"node {node.name or node.output[0]!r}"
        try:
            fields, namespace, version = node_fields(node)
            if version != PLUGIN_VERSION:
                raise UserError(f"plugin_version is {version!r}, this plugin is version {PLUGIN_VERSION}")
            if len(node.input) != 1:
                raise PluginInputError(f"takes one input (the image), got {len(node.input)}")
            dtype, dims = types.get(node.input[0], (None, None))
            if dtype is None:
                raise PluginInputError(f"the type of input {node.input[0]!r} is unknown; run onnx shape inference")
            check_dtype(dtype)
            if dims is not None:
                check_shape(dims)
        except UserError as exc:
            raise type(exc)(f"{where}: {exc}") from None
        found.append((node.name or node.output[0], fields, namespace))
    return found


def plugin_only_model(fields: PreprocessFields, namespace: str = PLUGIN_NAMESPACE, aot: bool | None = None) -> onnx.ModelProto:
    """Cast + plugin alone: uint8 image (N x H x W x 3) -> ``output`` (N x 3 x H x W, ``fields.out_dtype``)."""
    elem = {"float32": onnx.TensorProto.FLOAT, "float16": onnx.TensorProto.FLOAT16}[fields.out_dtype]
    graph = helper.make_graph(
        [helper.make_node("Cast", ["image"], ["image_as_float16"], to=onnx.TensorProto.FLOAT16, name="image_cast"),
         helper.make_node(PLUGIN_NAME, ["image_as_float16"], ["output"], domain=DOMAIN, name="preprocess",
                          mean=list(fields.mean), std=list(fields.std), out_dtype=fields.out_dtype,
                          plugin_namespace=namespace, plugin_version=PLUGIN_VERSION, **aot_attribute(namespace, aot))],
        "preprocess",
        [helper.make_tensor_value_info("image", onnx.TensorProto.UINT8, ["batch", "height", "width", 3])],
        [helper.make_tensor_value_info("output", elem, ["batch", 3, "height", "width"])])  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid(DOMAIN, 1)])
    check_plugin_nodes(model)
    return model


def attach_plugin(model: onnx.ModelProto, fields: PreprocessFields, namespace: str = PLUGIN_NAMESPACE,
                  aot: bool | None = None) -> onnx.ModelProto:
    """Prepend Cast + plugin to a model with one NCHW float input (e.g. an exported ResNet50).

    The new model takes ``image`` (uint8, N x H x W x 3); the old input becomes the plugin's output.
    """
    inits = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in inits]
    if len(inputs) != 1:
        raise UserError(f"expected a model with one input, it has {len(inputs)}: {[i.name for i in inputs]}")
    old = inputs[0]
    elem = old.type.tensor_type.elem_type
    want = {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.FLOAT16: "float16"}.get(elem)
    if want is None:
        raise UserError(f"the model's input {old.name!r} must be float32 or float16, got "
                        f"{helper.tensor_dtype_to_np_dtype(elem)}")
    if want != fields.out_dtype:
        fields = fields.with_out_dtype(want)  # the plugin must produce what the model takes
    dims = old.type.tensor_type.shape.dim
    if len(dims) != 4 or (dims[1].HasField("dim_value") and dims[1].dim_value != 3):
        raise UserError(f"the model's input {old.name!r} must be N x 3 x H x W")
    out = onnx.ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    image = helper.make_tensor_value_info("image", onnx.TensorProto.UINT8, ["batch", "height", "width", 3])
    half = f"{old.name}_as_float16"
    cast = helper.make_node("Cast", ["image"], [half], to=onnx.TensorProto.FLOAT16, name="image_cast")
    plugin = helper.make_node(PLUGIN_NAME, [half], [old.name], domain=DOMAIN, name="preprocess",
                              mean=list(fields.mean), std=list(fields.std), out_dtype=fields.out_dtype,
                              plugin_namespace=namespace, plugin_version=PLUGIN_VERSION,
                              **aot_attribute(namespace, aot))
    nodes = [cast, plugin, *graph.node]
    del graph.node[:]
    graph.node.extend(nodes)
    kept = [i for i in graph.input if i.name != old.name]
    del graph.input[:]
    graph.input.extend([image, *kept])
    if not any(o.domain == DOMAIN for o in out.opset_import):
        out.opset_import.append(helper.make_opsetid(DOMAIN, 1))
    check_plugin_nodes(out)
    return out
