"""demos.trt.builder and demos.trt.inspector with the real TensorRT-RTX builder (CPU) and recorded engine JSON.

The builder is wrapped, not faked: :class:`Recording` hands the real ``tensorrt_rtx`` objects to
``builder.build`` and keeps the builder configuration and the network flags, so the tests read the real
flags TensorRT-RTX was given.
"""

from __future__ import annotations

import types

import pytest

from demos.selfcheck import models
from demos.trt import builder, inspector

rtx = pytest.importorskip("tensorrt_rtx_bindings")


class Recording:
    """The TensorRT-RTX module, with ``Builder`` wrapped to record configs and ``create_network`` flags."""

    def __init__(self, trt):
        self._trt = trt
        self.configs = []
        self.builders = []  # a config must not outlive its builder (TensorRT objects, freed in order below)
        self.network_flags = []

    def release(self):
        self.configs.clear()
        self.builders.clear()

    def __getattr__(self, name):
        return getattr(self._trt, name)

    def Builder(self, logger):  # noqa: N802  (the TensorRT name)
        real = self._trt.Builder(logger)
        record = self
        self.builders.append(real)

        class Wrapped:
            def __getattr__(self, name):
                return getattr(real, name)

            def create_builder_config(self):
                config = real.create_builder_config()
                record.configs.append(config)
                return config

            def create_network(self, flags):
                record.network_flags.append(flags)
                return real.create_network(flags)

        return Wrapped()


@pytest.fixture(scope="module")
def onnx_files(tmp_path_factory):
    import onnx

    folder = tmp_path_factory.mktemp("builder")
    out = {k: models.save(models.classifier(k), folder / f"{k}.onnx") for k in ("fp32", "fp16", "int8")}
    static = models.classifier("fp32")
    static.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 2  # batch fixed at 2
    static.graph.output[0].type.tensor_type.shape.dim[0].dim_value = 2
    onnx.save(static, str(folder / "static.onnx"))
    out["static"] = folder / "static.onnx"
    return out


@pytest.fixture
def recording():
    trt = Recording(rtx)
    yield trt
    trt.release()


def test_fp32_engines_do_not_run_in_tf32(onnx_files, recording):
    # D15: BuilderFlag.TF32 is on by default; the FP32 engine must be IEEE FP32 unless TF32 is asked for.
    trt = recording
    default_builder = rtx.Builder(rtx.Logger(rtx.Logger.ERROR))
    config_default = default_builder.create_builder_config()
    assert config_default.get_flag(rtx.BuilderFlag.TF32)  # TensorRT's default, which the builder overrides
    del config_default, default_builder
    _, info = builder.build(trt, onnx_files["fp32"], builder.BuildOptions("rtx", 1, 2, 4))
    assert not trt.configs[-1].get_flag(rtx.BuilderFlag.TF32) and info["tf32"] is False
    _, info = builder.build(trt, onnx_files["fp32"], builder.BuildOptions("rtx", 1, 2, 4, tf32=True))
    assert trt.configs[-1].get_flag(rtx.BuilderFlag.TF32) and info["tf32"] is True


def test_profile_only_for_dynamic_inputs(onnx_files, recording):
    trt = recording
    _, info = builder.build(trt, onnx_files["fp32"], builder.BuildOptions("rtx", 1, 2, 4))
    assert trt.configs[-1].num_optimization_profiles == 1 and info["profile"] == {"min": 1, "opt": 2, "max": 4}
    plan, info = builder.build(trt, onnx_files["static"], builder.BuildOptions("rtx", 1, 2, 4))
    assert trt.configs[-1].num_optimization_profiles == 0 and info["profile"] is None and len(plan) > 0


def test_strongly_typed_flag_only_for_tensorrt_10(onnx_files, recording):
    # TensorRT 11 and TensorRT-RTX build strongly typed anyway; their STRONGLY_TYPED is deprecated.
    trt = recording
    builder.build(trt, onnx_files["fp16"], builder.BuildOptions("rtx", 1, 2, 4))
    assert trt.network_flags == [0]
    flag = types.SimpleNamespace(STRONGLY_TYPED=5)
    trt10 = types.SimpleNamespace(__name__="tensorrt", __version__="10.16.1.11", NetworkDefinitionCreationFlag=flag)
    trt11 = types.SimpleNamespace(__name__="tensorrt", __version__="11.4.0.106", NetworkDefinitionCreationFlag=flag)
    assert builder.network_flags(trt10, True) == 1 << 5
    assert builder.network_flags(trt10, False) == 0
    assert builder.network_flags(trt11, True) == 0
    assert builder.network_flags(types.SimpleNamespace(__name__="tensorrt_rtx_bindings", __version__="1.7.1.116",
                                                       NetworkDefinitionCreationFlag=flag), True) == 0


def test_network_precisions_leave_dq_fed_layers_out(onnx_files):
    # D10: before fusion a DQ -> Conv has an FP32 output; it must not be reported as an FP32 layer.
    _, info = builder.build(rtx, onnx_files["int8"], builder.BuildOptions("rtx", 1, 2, 4))
    net = info["network"]
    assert net["dq_fed_layers"] == 2 and any("CONVOLUTION" in n for n in net["dq_fed"])
    assert not any("CONVOLUTION" in n or "MATRIX_MULTIPLY" in n for n in net["fp32_layers"])
    assert "before fusion" in net["basis"]
    _, info = builder.build(rtx, onnx_files["fp16"], builder.BuildOptions("rtx", 1, 2, 4))
    assert info["network"]["fp32_layers"] == [] and info["network"]["precision_counts"]["FP16"] >= 5


# -- D5: the engine inspector's format strings -----------------------------------------------------------

# Shapes of the JSON TensorRT's IEngineInspector writes: classic layers (TensorRT 10), Myelin layers, and
# TensorRT 11, which split "Format/Datatype" into "Datatype" and "Format".
ENGINE_JSON = {"Layers": [
    {"Name": "conv1", "LayerType": "CaskConvolution",
     "Outputs": [{"Name": "a", "Format/Datatype": "Row major linear FP32 format"}]},
    {"Name": "conv2", "LayerType": "CaskConvolution",
     "Outputs": [{"Name": "b", "Format/Datatype": "Channel major FP16 format where C % 8 == 0"}]},
    {"Name": "conv3", "LayerType": "CaskConvolution",
     "Outputs": [{"Name": "c", "Format/Datatype": "Channel major INT8 format where C % 32 == 0"}]},
    {"Name": "myelin", "LayerType": "Myelin", "Outputs": [{"Name": "d", "Format/Datatype": "Half"}]},
    {"Name": "trt11", "LayerType": "CaskConvolution", "Outputs": [{"Name": "e", "Datatype": "BF16", "Format": "Row major linear"}]},
    {"Name": "cast", "LayerType": "Reformat", "Outputs": [{"Name": "f", "Format/Datatype": "Row major linear UInt8 format"}]},
]}


def test_engine_report_reads_classic_myelin_and_tensorrt_11_formats():
    summary = inspector.layer_summary(ENGINE_JSON)
    assert summary["precision_counts"] == {"FP32": 1, "FP16": 2, "INT8": 1, "BF16": 1, "UINT8": 1}
    assert [layer["output"] for layer in summary["layers"]][4] == "BF16 Row major linear"


@pytest.mark.parametrize("text, dtype", [
    ("Row major linear FP32 format", "FP32"), ("Float", "FP32"), ("Half", "FP16"),
    ("Two wide channel vectorized row major FP16 format", "FP16"), ("Int8 NC/32HW32", "INT8"),
    ("BFloat16", "BF16"), ("FP8", "FP8"), ("Row major linear UInt8 format", "UINT8"), ("Int32", "INT32"),
])  # fmt: skip
def test_dtype_words(text, dtype):
    assert inspector.dtype_of(text) == dtype
