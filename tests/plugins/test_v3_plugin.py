"""The IPluginV3 class and its creator, called directly (TensorRT-RTX bindings, no GPU, no parser).

The same methods run inside TensorRT's builder in test_build_rtx.py; here each is checked on its own.
"""

from __future__ import annotations

import gc

import numpy as np
import pytest

from demos.plugins import PLUGIN_NAME, PLUGIN_NAMESPACE, PLUGIN_VERSION, v3
from demos.plugins.fields import EFFICIENTNET_LITE, IMAGENET, PluginFieldError, PluginInputError

trt = v3.trt


def _desc(dtype, fmt=None, dims=(1, 224, 224, 3)):
    d = trt.DynamicPluginTensorDesc()
    d.desc.type = dtype
    d.desc.format = trt.TensorFormat.LINEAR if fmt is None else fmt
    d.desc.dims = trt.Dims(list(dims))
    return d


def test_creator_identity_and_declared_fields():
    creator = v3.register_creator()
    assert (creator.name, creator.plugin_version, creator.plugin_namespace) == (PLUGIN_NAME, PLUGIN_VERSION, PLUGIN_NAMESPACE)
    assert {f.name: f.type for f in creator.field_names} == v3.FIELD_TYPES
    assert v3.register_creator() is creator  # registered once per process
    assert trt.get_plugin_registry().get_creator(PLUGIN_NAME, PLUGIN_VERSION, PLUGIN_NAMESPACE) is not None


@pytest.mark.parametrize("fields", [IMAGENET, IMAGENET.with_out_dtype("float16"), EFFICIENTNET_LITE])
def test_serialization_round_trip(fields):
    plugin = v3.make_plugin(fields)
    assert (plugin.plugin_name, plugin.plugin_namespace, plugin.plugin_version) == (PLUGIN_NAME, PLUGIN_NAMESPACE, PLUGIN_VERSION)
    serialized = plugin.get_fields_to_serialize()
    gc.collect()  # the collection must not point at freed buffers
    assert {f.name: f.type for f in serialized} == v3.FIELD_TYPES
    again = v3.register_creator().create_plugin("any_layer_name", serialized, trt.TensorRTPhase.RUNTIME)
    assert again.fields == fields
    assert again.phase == trt.TensorRTPhase.RUNTIME


def test_field_collection_keeps_its_buffers_alive():
    # trt.PluginField does not own its buffer (a collection built from temporaries reads freed memory),
    # so the holder object must outlive every use of its collection.
    holder = v3.FieldCollection(IMAGENET)
    collection = holder.collection
    gc.collect()
    _ = [np.full(3, 9.0, np.float32) for _ in range(1000)]
    values = {f.name: np.array(f.data) for f in collection}
    assert np.array_equal(values["mean"], np.float32(IMAGENET.mean))
    assert np.array_equal(values["std"], np.float32(IMAGENET.std))
    assert bytes(values["out_dtype"].astype(np.uint8)) == b"float32\0"


def test_creator_rejects_bad_fields_and_records_why():
    v3.ERRORS.clear()
    bad = v3.FieldCollection(IMAGENET)
    bad.arrays["std"][1] = 0.0  # through the buffer the collection points at
    with pytest.raises(PluginFieldError, match="'std' must be > 0"):
        v3.register_creator().create_plugin("layer", bad.collection, trt.TensorRTPhase.BUILD)
    assert v3.ERRORS and "std" in v3.ERRORS[-1]


def test_string_field_of_the_wrong_type_is_rejected():
    keep = {"mean": np.float32(IMAGENET.mean), "std": np.float32(IMAGENET.std), "out_dtype": np.float32([1])}
    collection = trt.PluginFieldCollection([
        trt.PluginField("mean", keep["mean"], trt.PluginFieldType.FLOAT32),
        trt.PluginField("std", keep["std"], trt.PluginFieldType.FLOAT32),
        trt.PluginField("out_dtype", keep["out_dtype"], trt.PluginFieldType.FLOAT32)])
    with pytest.raises(PluginFieldError, match="CHAR"):
        v3.read_fields(collection)


def test_output_dtype_follows_the_field_and_bad_input_dtypes_fail_clearly():
    assert v3.make_plugin(IMAGENET).get_output_data_types([trt.DataType.HALF]) == [trt.DataType.FLOAT]
    plugin = v3.make_plugin(IMAGENET.with_out_dtype("float16"))
    assert plugin.get_output_data_types([trt.DataType.FLOAT]) == [trt.DataType.HALF]
    with pytest.raises(PluginInputError, match="insert a Cast to float16"):
        plugin.get_output_data_types([trt.DataType.UINT8])
    with pytest.raises(PluginInputError, match="float16 or float32"):
        plugin.get_output_data_types([trt.DataType.INT32])
    with pytest.raises(ValueError, match="one input"):
        plugin.get_output_data_types([trt.DataType.HALF, trt.DataType.HALF])


def test_format_negotiation():
    plugin = v3.make_plugin(IMAGENET.with_out_dtype("float16"))
    half, single = trt.DataType.HALF, trt.DataType.FLOAT
    for in_type in (half, single):
        assert plugin.supports_format_combination(0, [_desc(in_type), _desc(half)], 1)
    for in_type in (trt.DataType.UINT8, trt.DataType.INT8, trt.DataType.INT32):
        assert not plugin.supports_format_combination(0, [_desc(in_type), _desc(half)], 1)
    assert not plugin.supports_format_combination(0, [_desc(half, trt.TensorFormat.HWC8), _desc(half)], 1)
    assert plugin.supports_format_combination(1, [_desc(half), _desc(half)], 1)
    assert not plugin.supports_format_combination(1, [_desc(half), _desc(single)], 1)  # out_dtype is float16
    assert not plugin.supports_format_combination(1, [_desc(half), _desc(half, trt.TensorFormat.CHW32)], 1)


def test_configure_checks_the_profile_dimensions():
    plugin = v3.make_plugin(IMAGENET)
    out = _desc(trt.DataType.FLOAT, dims=(-1, 3, -1, -1))
    plugin.configure_plugin([_desc(trt.DataType.HALF, dims=(-1, -1, -1, 3))], [out])
    with pytest.raises(PluginInputError, match="3 channels last"):
        plugin.configure_plugin([_desc(trt.DataType.HALF, dims=(-1, -1, -1, 4))], [out])
    with pytest.raises(PluginInputError, match="rank 4"):
        plugin.configure_plugin([_desc(trt.DataType.HALF, dims=(-1, -1, 3))], [out])


def test_clone_and_build_time_answers():
    plugin = v3.make_plugin(EFFICIENTNET_LITE)
    clone = plugin.clone()
    assert clone is not plugin and clone.fields == plugin.fields
    assert plugin.get_capability_interface(trt.PluginCapabilityType.BUILD) is plugin
    assert plugin.get_workspace_size([], []) == 0
    assert plugin.get_valid_tactics() == []
    assert plugin.attach_to_context(None).fields == plugin.fields


def test_network_api_path_is_refused_where_add_plugin_v3_is_missing():
    # TensorRT-RTX's INetworkDefinition has no add_plugin_v3; the ONNX parser is its way in.
    class NoPluginV3:
        pass

    with pytest.raises(Exception, match="add_plugin_v3"):
        v3.add_to_network(NoPluginV3(), None, IMAGENET)
