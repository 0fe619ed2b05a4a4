"""The real TensorRT binding wheels are introspected for every pinned version."""

import json
import shutil
import subprocess
import sys
import textwrap

import pytest

from paddle_style_guide.trt_api import bindings


def test_every_target_is_introspected(surfaces):
    assert set(surfaces) == {"10", "11", "rtx"}
    for key, target in bindings.TARGETS_BY_KEY.items():
        path, surface = bindings.ensure_surface(target)
        doc = json.loads(path.read_text())
        assert doc["key"]["version"] == surface["version"] == target.version
        assert doc["key"]["sha256"] == (target.sha256 or doc["key"]["sha256"])
        # The public module and its core classes are recorded, with members.
        objects = surfaces[key].objects
        assert len(objects) > 150, key
        for cls in ("Builder", "IBuilderConfig", "INetworkDefinition", "ICudaEngine", "Runtime", "OnnxParser"):
            assert f"{target.module}.{cls}" in objects, (key, cls)
    assert surfaces["10"].version.startswith("10.") and surfaces["11"].version.startswith("11.")
    assert surfaces["rtx"].label == "TensorRT-RTX 1.7.1.116"


@pytest.mark.parametrize(
    "name, in_10, in_11",
    [
        ("tensorrt.BuilderFlag.FP16", True, False),
        ("tensorrt.BuilderFlag.INT8", True, False),
        ("tensorrt.IInt8EntropyCalibrator2", True, False),
        ("tensorrt.Builder.platform_has_fast_fp16", True, False),
        ("tensorrt.Builder.build_engine", False, False),
        ("tensorrt.IBuilderConfig.max_workspace_size", False, False),
        ("tensorrt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH", True, False),
        ("tensorrt.Builder.build_serialized_network", True, True),
        ("tensorrt.IBuilderConfig.set_memory_pool_limit", True, True),
        ("tensorrt.NetworkDefinitionCreationFlag.STRONGLY_TYPED", True, True),
        ("tensorrt.plugin.register", True, True),
        # `from tensorrt_bindings.plugin import *` honours __all__: `op` is exported, `logger` is not
        ("tensorrt.plugin.op", True, True),
        ("tensorrt.plugin.logger", False, False),
    ],
)
def test_known_facts(surfaces, name, in_10, in_11):
    assert surfaces["10"].has(name) is in_10
    assert surfaces["11"].has(name) is in_11


def test_tensorrt_rtx_surface(surfaces):
    rtx = surfaces["rtx"]
    assert rtx.has("tensorrt_rtx.OnnxParser")
    assert rtx.has("tensorrt_rtx.Builder.build_serialized_network")
    assert not rtx.has("tensorrt_rtx.BuilderFlag.FP16")  # strongly typed only


def test_return_types_come_from_the_signatures(surfaces):
    for key in ("10", "11"):
        s = surfaces[key]
        assert s.member("tensorrt.Builder", "create_network") == ("method", "tensorrt.INetworkDefinition")
        assert s.member("tensorrt.Builder", "create_builder_config") == ("method", "tensorrt.IBuilderConfig")
        assert s.member("tensorrt.Runtime", "deserialize_cuda_engine") == ("method", "tensorrt.ICudaEngine")
        assert s.member("tensorrt.ICudaEngine", "create_execution_context") == ("method", "tensorrt.IExecutionContext")
        assert s.member("tensorrt.ITensor", "shape") == ("property", "tensorrt.Dims")
        assert s.member("tensorrt.Logger", "WARNING")[0] == "value"


def test_deprecations_come_from_the_docstrings(surfaces):
    s10 = surfaces["10"]
    assert s10.deprecation("tensorrt.IInt8EntropyCalibrator2") == "10.1"
    assert s10.deprecation("tensorrt.ITensor.set_dynamic_range") == "10.1"
    assert s10.deprecation("tensorrt.BuilderFlag.FP16") == "10.12"
    # A description that only mentions a deprecated API is not a deprecation.
    assert s10.deprecation("tensorrt.MemoryPoolType.WORKSPACE") is None
    assert s10.deprecation("tensorrt.Builder.build_serialized_network") is None


def test_stub_covers_exactly_what_the_extension_needs(surfaces):
    unpacked = bindings.unpack(bindings.TARGETS_BY_KEY["11"], bindings.fetch_wheels()["11"])
    needed, symbols = bindings.stub_requirements(unpacked / "tensorrt_bindings" / "tensorrt.so")
    assert sorted(needed) == ["libnvinfer.so.11", "libnvinfer_plugin.so.11", "libnvonnxparser.so.11"]
    assert "createInferBuilder_INTERNAL" in symbols and "getPluginRegistry" in symbols
    assert "dlopen" not in symbols  # libc provides it
    assert not any(s.startswith("Py") for s in symbols)


def test_stub_aborts_loudly_if_ever_called(surfaces, tmp_path):
    unpacked = bindings.unpack(bindings.TARGETS_BY_KEY["10"], bindings.fetch_wheels()["10"])
    stub_dir = bindings.build_stub(unpacked / "tensorrt_bindings" / "tensorrt.so")
    code = textwrap.dedent(
        f"""
        import ctypes
        lib = ctypes.CDLL({str(stub_dir / "libnvinfer.so.10")!r})
        lib.createInferBuilder_INTERNAL()
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == -6  # SIGABRT
    assert "introspection only" in proc.stderr


def test_cache_is_verified_and_rebuilt(surfaces, tmp_path, monkeypatch):
    # A private cache seeded with the already downloaded wheel: no network needed.
    target = bindings.TARGETS_BY_KEY["11"]
    wheel = bindings.fetch_wheels()["11"]
    (tmp_path / "wheels").mkdir()
    shutil.copy(wheel, tmp_path / "wheels" / wheel.name)
    monkeypatch.setenv("TRT_API_CACHE", str(tmp_path))
    path, first = bindings.ensure_surface(target)
    assert path.parent == tmp_path / "surfaces"

    # Hand-edit the content: the checksum no longer matches, so it is rebuilt.
    doc = json.loads(path.read_text())
    doc["surface"]["objects"]["tensorrt.BuilderFlag"]["members"]["FP16"] = ["value", None, None]
    path.write_text(json.dumps(doc))
    _, rebuilt = bindings.ensure_surface(target)
    assert "FP16" not in rebuilt["objects"]["tensorrt.BuilderFlag"]["members"]
    assert rebuilt == first

    # A key from another introspector version is not trusted either.
    doc = json.loads(path.read_text())
    doc["key"]["introspector"] = "0" * 64
    path.write_text(json.dumps(doc))
    assert bindings._read_verified(path, bindings.expected_key(target, target.sha256)) is None


def test_tampered_wheel_is_downloaded_again_with_pinned_hashes(tmp_path, monkeypatch):
    target = bindings.TARGETS_BY_KEY["10"]
    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels" / target.wheel).write_bytes(b"not the real wheel")
    monkeypatch.setenv("TRT_API_CACHE", str(tmp_path))
    seen = []

    def offline_pip(cmd, **kwargs):
        seen.append((cmd, open(cmd[cmd.index("-r") + 1]).read()))
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: Could not find a version (offline)\n")

    monkeypatch.setattr(bindings.subprocess, "run", offline_pip)
    with pytest.raises(bindings.BindingsError, match=r"pip download of tensorrt-cu12-bindings==10\.16\.1\.11 failed"):
        bindings.fetch_wheels([target])
    ((cmd, requirements),) = seen
    assert {"--require-hashes", "--no-deps", "--only-binary=:all:"} <= set(cmd)
    assert requirements == f"tensorrt-cu12-bindings==10.16.1.11 --hash=sha256:{target.sha256}\n"
    assert (tmp_path / "wheels" / target.wheel).read_bytes() == b"not the real wheel"  # nothing half-written
