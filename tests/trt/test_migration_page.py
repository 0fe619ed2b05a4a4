"""The TensorRT code of docs/migration.md, run against stand-ins for TensorRT and PyTorch (D7).

The API checker proves the names exist; these tests run the page's code and check what it does: the INT8
helpers set the calibration profile and a range on every tensor, and the engine runs on a stream the code
created, not on the legacy default stream.
"""

from __future__ import annotations

import contextlib
import types

import pytest

from paddle_style_guide.trt_api import blocks
from paddle_style_guide.trt_api.bindings import REPO_ROOT

PAGE = REPO_ROOT / "docs" / "migration.md"


def _block(marker: str) -> str:
    found, _ = blocks.extract(PAGE)
    [code] = [b.code for b in found if b.lang == "python" and marker in b.code and "trt-api: 7" not in b.code]
    return code


class Recorder:
    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        return lambda *args: self.calls.append((name, *args))


def _fake_trt():
    trt = types.ModuleType("tensorrt")
    for name in ("IBuilderConfig", "IInt8EntropyCalibrator2", "IOptimizationProfile", "INetworkDefinition"):
        setattr(trt, name, type(name, (), {}))
    trt.BuilderFlag = types.SimpleNamespace(INT8="INT8")
    return trt


def test_int8_helpers_set_the_calibration_profile_and_every_range(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "tensorrt", _fake_trt())
    namespace = {}
    exec(_block("def request_int8"), namespace)
    config, profile = Recorder(), object()
    namespace["request_int8"](config, "calibrator", profile)
    assert ("set_flag", "INT8") in config.calls and ("set_calibration_profile", profile) in config.calls

    class Tensor(Recorder):
        def __init__(self, name):
            super().__init__()
            self.name = name

    x, h, y = Tensor("x"), Tensor("h"), Tensor("y")
    layers = [types.SimpleNamespace(num_outputs=1, get_output=lambda j, t=t: t) for t in (h, y)]
    network = types.SimpleNamespace(num_inputs=1, get_input=lambda i: x, num_layers=2, get_layer=lambda i: layers[i])
    namespace["set_ranges"](network, {"x": 2.0, "h": 6.0, "y": 10.0})
    # was: only the first input got a range, whatever the comment said
    assert [t.calls for t in (x, h, y)] == [[("set_dynamic_range", -2.0, 2.0)], [("set_dynamic_range", -6.0, 6.0)],
                                            [("set_dynamic_range", -10.0, 10.0)]]


def test_the_engine_runs_on_a_created_stream(monkeypatch, tmp_path):
    events = []
    current = [0]  # handle of the current stream; 0 is the legacy default stream

    class Stream:
        count = 0

        def __init__(self, handle=None):
            Stream.count += 1
            self.cuda_stream = 0x100 * Stream.count if handle is None else handle

        def synchronize(self):
            events.append(("synchronize", self.cuda_stream))

    @contextlib.contextmanager
    def stream(s):
        old, current[0] = current[0], s.cuda_stream
        try:
            yield
        finally:
            current[0] = old

    class Tensor:
        def __init__(self, shape):
            self.shape = shape

        def data_ptr(self):
            return id(self)

        def copy_(self, other):
            events.append(("copy", current[0]))

        def amax(self):
            return types.SimpleNamespace(item=lambda: 1.0)

    torch = types.ModuleType("torch")
    torch.float32 = "float32"
    torch.zeros = lambda shape, dtype=None, device=None: Tensor(shape)
    torch.randn = lambda *shape: Tensor(shape)
    torch.cuda = types.SimpleNamespace(Stream=Stream, stream=stream, current_stream=lambda: Stream(current[0]))

    class Context:
        def set_tensor_address(self, name, ptr):
            pass

        def execute_async_v3(self, handle):
            events.append(("execute", handle, current[0]))
            return True

    engine = types.SimpleNamespace(num_io_tensors=2, get_tensor_name=lambda i: ("image", "features")[i],
                                   get_tensor_shape=lambda n: (1, 3, 16, 16) if n == "image" else (1, 8, 16, 16),
                                   get_tensor_mode=lambda n: n, create_execution_context=Context)
    trt = types.ModuleType("tensorrt")
    trt.Logger = type("Logger", (), {"WARNING": 2, "__init__": lambda self, level: None})
    trt.Runtime = lambda logger: types.SimpleNamespace(deserialize_cuda_engine=lambda data: engine)
    monkeypatch.setitem(__import__("sys").modules, "tensorrt", trt)
    monkeypatch.setitem(__import__("sys").modules, "torch", torch)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.plan").write_bytes(b"plan")
    exec(_block("execute_async_v3(stream.cuda_stream)"), {})
    [(_, handle, when)] = [e for e in events if e[0] == "execute"]
    assert handle != 0  # was: torch.cuda.current_stream(), the legacy default stream
    assert ("copy", handle) in events and ("synchronize", handle) in events
