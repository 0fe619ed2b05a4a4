"""The ONNX side: the PyTorch custom op, its export to a plugin node, and the checks before TensorRT."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from onnx import helper

from demos.errors import UserError
from demos.plugins import PLUGIN_NAME, PLUGIN_NAMESPACE, PLUGIN_VERSION, onnx_export
from demos.plugins.fields import EFFICIENTNET_LITE, IMAGENET, PluginFieldError, PluginInputError
from demos.plugins.reference import preprocess_numpy


def _attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def test_custom_op_runs_in_pytorch_as_the_reference():
    image = torch.randint(0, 256, (2, 9, 11, 3), dtype=torch.uint8)
    f = EFFICIENTNET_LITE.with_out_dtype("float16")
    out = torch.ops.lowprec.preprocess_nhwc(image, list(f.mean), list(f.std), f.out_dtype)
    assert np.array_equal(out.numpy().view(np.uint16), preprocess_numpy(image.numpy(), f).view(np.uint16))


def test_custom_op_rejects_bad_fields_in_pytorch_too():
    with pytest.raises(PluginFieldError, match="'std' must be > 0"):
        torch.ops.lowprec.preprocess_nhwc(torch.zeros((1, 2, 2, 3), dtype=torch.uint8), [0.0] * 3, [1.0, 0.0, 1.0], "float32")


def test_export_produces_cast_then_plugin_node(stem_onnx):
    model = onnx.load(str(stem_onnx))
    onnx.checker.check_model(model)
    ops = [n.op_type for n in model.graph.node]
    assert ops[:3] == ["Cast", PLUGIN_NAME, "Conv"]
    cast, plugin = model.graph.node[0], model.graph.node[1]
    assert _attrs(cast)["to"] == onnx.TensorProto.FLOAT16 and plugin.input[0] == cast.output[0]
    assert plugin.domain == onnx_export.DOMAIN
    attrs = _attrs(plugin)
    assert attrs["plugin_namespace"] == PLUGIN_NAMESPACE.encode() and attrs["plugin_version"] == PLUGIN_VERSION.encode()
    assert np.array_equal(np.float32(attrs["mean"]), np.float32(IMAGENET.mean))
    assert np.array_equal(np.float32(attrs["std"]), np.float32(IMAGENET.std))
    assert attrs["out_dtype"] == b"float32"
    image = model.graph.input[0]
    assert image.name == "image" and image.type.tensor_type.elem_type == onnx.TensorProto.UINT8
    dims = image.type.tensor_type.shape.dim
    assert [d.dim_value for d in dims][3] == 3 and all(d.dim_param for d in dims[:3])  # dynamic N, H, W
    assert any(o.domain == onnx_export.DOMAIN for o in model.opset_import)
    [(name, fields, namespace)] = onnx_export.check_plugin_nodes(model)
    assert fields == IMAGENET and namespace == PLUGIN_NAMESPACE


def _mutated(path, change):
    model = onnx.load(str(path))
    change(model)
    return model


def _set_attr(node, name, value):
    for a in list(node.attribute):
        if a.name == name:
            node.attribute.remove(a)
    node.attribute.append(helper.make_attribute(name, value))


def test_plugin_fed_uint8_directly_is_rejected_before_tensorrt(stem_onnx):
    def drop_cast(model):
        plugin = model.graph.node[1]
        plugin.input[0] = model.graph.input[0].name
        del model.graph.node[0]

    with pytest.raises(PluginInputError, match="insert a Cast to float16"):
        onnx_export.check_plugin_nodes(_mutated(stem_onnx, drop_cast))


@pytest.mark.parametrize("name, value, error, message", [
    ("std", [58.0, 0.0, 57.0], PluginFieldError, "'std' must be > 0"),
    ("mean", [1.0, 2.0], PluginFieldError, "'mean' must have 3 values"),
    ("out_dtype", "bfloat16", PluginFieldError, "'out_dtype' must be one of"),
    ("gain", 2.0, PluginFieldError, "unknown field(s) gain"),
    ("plugin_version", "2", UserError, "this plugin is version 1"),
])  # fmt: skip
def test_bad_node_attributes_are_rejected_with_the_node_named(stem_onnx, name, value, error, message):
    model = _mutated(stem_onnx, lambda m: _set_attr(m.graph.node[1], name, value))
    with pytest.raises(error) as info:
        onnx_export.check_plugin_nodes(model)
    assert message in str(info.value) and "node " in str(info.value)


def test_wrong_input_shape_is_rejected(stem_onnx):
    def three_dims(model):
        model.graph.value_info.append(helper.make_tensor_value_info(
            model.graph.node[1].input[0], onnx.TensorProto.FLOAT16, ["n", "h", "w"]))

    with pytest.raises(PluginInputError, match="rank 4"):
        onnx_export.check_plugin_nodes(_mutated(stem_onnx, three_dims))


def _tiny_nchw_model(elem_type=onnx.TensorProto.FLOAT):
    weight = helper.make_tensor("w", elem_type, [4, 3, 1, 1], np.ones(12).tolist())
    conv = helper.make_node("Conv", ["x", "w"], ["y"])
    graph = helper.make_graph([conv], "tiny", [helper.make_tensor_value_info("x", elem_type, ["n", 3, "h", "w"])],
                              [helper.make_tensor_value_info("y", elem_type, ["n", 4, "h", "w"])], [weight])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_attach_plugin_in_front_of_an_existing_model():
    model = onnx_export.attach_plugin(_tiny_nchw_model(), IMAGENET)
    onnx.checker.check_model(model)
    assert [n.op_type for n in model.graph.node] == ["Cast", PLUGIN_NAME, "Conv"]
    assert [i.name for i in model.graph.input] == ["image"]
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.UINT8
    [(_, fields, _)] = onnx_export.check_plugin_nodes(model)
    assert fields == IMAGENET
    # A float16 model gets float16 out of the plugin, whatever the fields said.
    half = onnx_export.attach_plugin(_tiny_nchw_model(onnx.TensorProto.FLOAT16), IMAGENET)
    assert onnx_export.check_plugin_nodes(half)[0][1].out_dtype == "float16"


def test_attach_plugin_refuses_models_it_cannot_feed():
    two_inputs = _tiny_nchw_model()
    two_inputs.graph.input.append(helper.make_tensor_value_info("z", onnx.TensorProto.FLOAT, [1]))
    with pytest.raises(UserError, match="one input"):
        onnx_export.attach_plugin(two_inputs, IMAGENET)
    with pytest.raises(UserError, match="float32 or float16"):
        onnx_export.attach_plugin(_tiny_nchw_model(onnx.TensorProto.INT32), IMAGENET)
