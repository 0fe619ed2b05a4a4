"""One implementation per namespace (D4), the plan's sidecar and running a plugin plan (D11), the aot attribute (D12)."""

from __future__ import annotations

import json
import sys
import types

import onnx
import pytest
from onnx import helper

from demos.errors import UserError
from demos.plugins import PLUGIN_NAME, PLUGIN_NAMESPACE, QUICK_NAMESPACE, onnx_export, registry
from demos.plugins.build import build_in_child
from demos.plugins.fields import IMAGENET
from demos.trt import buffers, runtime

from trt import fakes  # tests/trt/fakes.py
from .conftest import SMALL_PROFILE


@pytest.fixture
def recorded(monkeypatch):
    """registry.register with TensorRT as the backend, the v3 creator and the quick import recorded."""
    from demos.plugins import v3

    calls = []
    monkeypatch.setattr(registry, "backend", lambda: "TensorRT")
    monkeypatch.setattr(v3, "register_creator", lambda namespace=PLUGIN_NAMESPACE: calls.append(("v3", namespace)))
    quick = types.ModuleType("demos.plugins.quick")
    monkeypatch.setitem(sys.modules, "demos.plugins.quick", quick)
    real_import = __import__

    def tracking(name, *args, **kwargs):
        if name == "demos.plugins.quick":
            calls.append(("quick", QUICK_NAMESPACE))
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr("builtins.__import__", tracking)
    return calls


def test_each_namespace_gets_its_own_implementation(recorded):
    # D4: the IPluginV3 creator was registered for every namespace, lowprec_qdp included.
    assert registry.register_all({QUICK_NAMESPACE}) == {QUICK_NAMESPACE: registry.IMPLEMENTATIONS[QUICK_NAMESPACE]}
    assert recorded == [("quick", QUICK_NAMESPACE)]
    recorded.clear()
    registry.register_all({PLUGIN_NAMESPACE, QUICK_NAMESPACE})
    assert sorted(recorded) == [("quick", QUICK_NAMESPACE), ("v3", PLUGIN_NAMESPACE)]


def test_unknown_namespace_is_refused(recorded):
    with pytest.raises(UserError, match="no PreprocessNHWC implementation for plugin_namespace 'other'"):
        registry.register("other")


def test_runtime_registration_skips_aot_plans(recorded):
    entries = [{"name": PLUGIN_NAME, "namespace": QUICK_NAMESPACE, "aot": True},
               {"name": PLUGIN_NAME, "namespace": PLUGIN_NAMESPACE, "aot": None}]
    assert registry.register_for_runtime(entries, "x.plan") == [PLUGIN_NAMESPACE]  # the AOT kernel is in the plan
    assert registry.register_for_runtime([{"name": PLUGIN_NAME, "namespace": QUICK_NAMESPACE, "aot": False}], "x") == [QUICK_NAMESPACE]
    with pytest.raises(UserError, match="contains plugin 'Other'"):
        registry.register_for_runtime([{"name": "Other", "namespace": PLUGIN_NAMESPACE}], "x.plan")


@pytest.mark.slow
def test_quick_namespace_on_tensorrt_rtx_is_one_line(tmp_path):
    path = tmp_path / "qdp.onnx"
    onnx.save(onnx_export.plugin_only_model(IMAGENET, QUICK_NAMESPACE), str(path))
    with pytest.raises(UserError) as err:  # was: built with the IPluginV3 class under the QDP's namespace
        build_in_child(path, profile=SMALL_PROFILE)
    assert "TensorRT-RTX has no tensorrt.plugin" in str(err.value) and "\n" not in str(err.value)


# -- D11: the plan's sidecar, read by runtime.Engine ---------------------------------------------------

@pytest.mark.slow
def test_plan_sidecar_lists_the_plugins_and_the_target(tmp_path):
    path = tmp_path / "preprocess.onnx"
    onnx.save(onnx_export.plugin_only_model(IMAGENET), str(path))
    plan = tmp_path / "preprocess.plan"
    report = build_in_child(path, profile=SMALL_PROFILE, plan_path=plan)
    meta = json.loads((tmp_path / "preprocess.plan.json").read_text())
    assert meta["plugins"] == report["plugins"] == [
        {"name": PLUGIN_NAME, "version": "1", "namespace": PLUGIN_NAMESPACE, "aot": None,
         "implementation": registry.IMPLEMENTATIONS[PLUGIN_NAMESPACE]}]
    assert meta["target"]["tensorrt_rtx_version"] == report["tensorrt"]["version"]
    assert meta["onnx"] == str(path) and meta["profile"]["opt"] == list(SMALL_PROFILE.opt)
    with pytest.raises(UserError, match="is a TensorRT-RTX plan"):
        runtime.check_compatible(meta, {"tensorrt_version": "10.16.1.11"}, plan.name)


def test_engine_registers_the_plugins_before_deserializing(tmp_path, monkeypatch):
    events = []
    plan = tmp_path / "p.plan"
    plan.write_bytes(b"plan")
    (tmp_path / "p.plan.json").write_text(json.dumps(
        {"target": {"tensorrt_version": "10.16.1.11"}, "plugins": [{"name": PLUGIN_NAME, "namespace": PLUGIN_NAMESPACE}]}))

    class Runtime:
        def __init__(self, logger):
            pass

        def deserialize_cuda_engine(self, data):
            events.append("deserialize")
            return fakes.FakeEngine()

    trt = fakes.fake_trt()
    trt.Logger = type("Logger", (), {"WARNING": 2, "__init__": lambda self, level: None})
    trt.Runtime = Runtime
    monkeypatch.setattr(runtime, "unavailable_reason", lambda: None)
    monkeypatch.setattr(runtime.loader, "tensorrt", lambda: trt)
    monkeypatch.setattr(runtime, "current_target", lambda t: {"tensorrt_version": "10.16.1.11"})
    monkeypatch.setattr(registry, "register_for_runtime", lambda plugins, name: events.append(("register", plugins)))
    monkeypatch.setattr(buffers, "_cudart", lambda: fakes.FakeCudart())
    eng = runtime.Engine(plan, "cuda-python")
    assert events == [("register", [{"name": PLUGIN_NAME, "namespace": PLUGIN_NAMESPACE}]), "deserialize"]
    assert eng.plugins and eng.inputs == ["x"]
    eng.close()


# -- D12: the aot attribute of the quickly deployable plugin's node -------------------------------------

def _attrs(model):
    [node] = onnx_export.plugin_nodes(model)
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def test_quick_plugin_nodes_carry_aot():
    assert _attrs(onnx_export.plugin_only_model(IMAGENET, QUICK_NAMESPACE))["aot"] == 1
    assert _attrs(onnx_export.plugin_only_model(IMAGENET, QUICK_NAMESPACE, aot=False))["aot"] == 0
    assert "aot" not in _attrs(onnx_export.plugin_only_model(IMAGENET, PLUGIN_NAMESPACE))
    with pytest.raises(UserError, match="aot applies to the quickly deployable plugin"):
        onnx_export.plugin_only_model(IMAGENET, PLUGIN_NAMESPACE, aot=True)
    [(_, fields, namespace)] = onnx_export.check_plugin_nodes(onnx_export.plugin_only_model(IMAGENET, QUICK_NAMESPACE))
    assert fields == IMAGENET and namespace == QUICK_NAMESPACE  # aot is the parser's, not a plugin field


def test_aot_on_a_v3_node_is_refused():
    model = onnx_export.plugin_only_model(IMAGENET, PLUGIN_NAMESPACE)
    model.graph.node[1].attribute.append(helper.make_attribute("aot", 1))
    with pytest.raises(UserError, match="only nodes of namespace lowprec_qdp take aot"):
        onnx_export.check_plugin_nodes(model)


@pytest.mark.slow
def test_exporter_writes_aot_for_the_quick_namespace(workdir):
    model = onnx_export.WithPreprocess(onnx_export.resnet_stem(), IMAGENET)
    path = onnx_export.export(model, workdir / "stem_qdp.onnx", namespace=QUICK_NAMESPACE, example_hw=(32, 32))
    attrs = _attrs(onnx.load(str(path)))  # was: no aot attribute, so TensorRT always took the JIT implementation
    assert attrs["aot"] == 1 and attrs["plugin_namespace"] == QUICK_NAMESPACE.encode()
