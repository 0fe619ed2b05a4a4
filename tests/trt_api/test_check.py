"""The static checker finds TensorRT names missing from the versions code claims to support."""

import subprocess
import sys
import textwrap

import pytest

from paddle_style_guide.trt_api import check
from paddle_style_guide.trt_api.bindings import REPO_ROOT

from .conftest import FIXTURES

V10, V11 = "TensorRT 10.16.1.11", "TensorRT 11.4.0.106"


def run(code: str, surfaces, path="snippet.py"):
    """Problems of one Python source, as 'line: name: message' strings."""
    unit = check.Unit(path, 1, textwrap.dedent(code))
    result = check.check_units([unit], surfaces)
    return [f"{p.line}: {p.name}: {p.message}" for p in result.problems]


def test_planted_removed_apis_fail(surfaces):
    result = check.check_paths([FIXTURES / "removed_api.py"], surfaces=surfaces)
    assert [str(p) for p in result.problems] == [
        "tests/trt_api/fixtures/removed_api.py:14: tensorrt.IBuilderConfig.max_workspace_size "
        f"(config.max_workspace_size): missing in {V10}, {V11}",
        f"tests/trt_api/fixtures/removed_api.py:15: tensorrt.BuilderFlag.FP16: missing in {V11}",
        "tests/trt_api/fixtures/removed_api.py:16: tensorrt.Builder.build_engine "
        f"(builder.build_engine): missing in {V10}, {V11}",
    ]


def test_version_guarded_code_passes(surfaces):
    result = check.check_paths([FIXTURES / "guarded.py"], surfaces=surfaces)
    assert result.problems == []
    assert result.uses > 20  # it did look the names up


def test_the_guards_are_what_make_it_pass(surfaces):
    code = (FIXTURES / "guarded.py").read_text()
    unguarded = (
        code.replace("if fp16 and TRT_MAJOR < 11:", "if fp16:")
        .replace('if hasattr(trt.BuilderFlag, "INT8"):', "if True:")
        .replace("if TRT_MAJOR >= 11:\n        return None", "if False:\n        return None")
    )
    assert unguarded != code
    problems = run(unguarded, surfaces)
    assert f"19: tensorrt.BuilderFlag.FP16: missing in {V11}" in problems
    assert f"21: tensorrt.BuilderFlag.INT8: missing in {V11}" in problems
    assert f"29: tensorrt.IInt8EntropyCalibrator2: missing in {V11}" in problems


def test_declared_versions_limit_the_check(surfaces):
    code = (FIXTURES / "claims.py").read_text()
    assert run(code, surfaces) == []  # claims TensorRT 10 only
    assert run(code.replace("# trt-api: 10", "# trt-api: 10, 11"), surfaces) == [
        f"7: tensorrt.IInt8EntropyCalibrator2: missing in {V11}",
        f"8: tensorrt.BuilderFlag.INT8: missing in {V11}",
        f"9: tensorrt.IBuilderConfig.int8_calibrator (config.int8_calibrator): missing in {V11}",
    ]
    # An unknown version is an error, and the code is still checked against the defaults.
    problems = run(code.replace("# trt-api: 10", "# trt-api: 12"), surfaces)
    assert problems[0] == "2: trt-api: `# trt-api: 12`: TensorRT 12 is not introspected (known: 10, 11)"
    assert len(problems) == 4


@pytest.mark.parametrize(
    "code, expected",
    [
        # from-imports are checked
        ("from tensorrt import IInt8EntropyCalibrator2\n", [f"1: tensorrt.IInt8EntropyCalibrator2: missing in {V11}"]),
        # a receiver of unknown type is never guessed
        ("def f(builder):\n    builder.build_engine(None, None)\n", []),
        # ... but an annotation makes it known
        (
            "import tensorrt as trt\ndef f(builder: trt.Builder):\n    builder.build_engine(None, None)\n",
            [f"3: tensorrt.Builder.build_engine (builder.build_engine): missing in {V10}, {V11}"],
        ),
        # factory return types follow the signatures: runtime -> engine -> context
        (
            "import tensorrt as trt\n"
            "engine = trt.Runtime(trt.Logger()).deserialize_cuda_engine(b'')\n"
            "ctx = engine.create_execution_context()\n"
            "ctx.execute_async_v2([], 0)\n",
            [f"4: tensorrt.IExecutionContext.execute_async_v2 (ctx.execute_async_v2): missing in {V10}, {V11}"],
        ),
        # assigning a removed attribute fails too
        (
            "import tensorrt as trt\nb = trt.Builder(trt.Logger())\nb.fp16_mode = True\n",
            [f"3: tensorrt.Builder.fp16_mode (b.fp16_mode): missing in {V10}, {V11}"],
        ),
        # `with` and `self.x` attributes keep their types
        (
            "import tensorrt as trt\n"
            "class Engine:\n"
            "    def __init__(self, plan):\n"
            "        self.engine = trt.Runtime(trt.Logger()).deserialize_cuda_engine(plan)\n"
            "    def run(self):\n"
            "        with self.engine.create_execution_context() as ctx:\n"
            "            ctx.execute(1, [])\n",
            [f"7: tensorrt.IExecutionContext.execute (ctx.execute): missing in {V10}, {V11}"],
        ),
        # early exit and assert guard the rest of the block
        (
            "import tensorrt as trt\n"
            "def f(config):\n"
            "    if not hasattr(trt.BuilderFlag, 'FP16'):\n"
            "        return\n"
            "    config.set_flag(trt.BuilderFlag.FP16)\n"
            "def g(config):\n"
            "    assert TRT_MAJOR < 11\n"
            "    config.set_flag(trt.BuilderFlag.INT8)\n",
            [],
        ),
        # try/except AttributeError is a guard; try/except Exception is not
        (
            "import tensorrt as trt\ntry:\n    f = trt.BuilderFlag.FP16\nexcept AttributeError:\n    f = None\n",
            [],
        ),
        (
            "import tensorrt as trt\ntry:\n    f = trt.BuilderFlag.FP16\nexcept Exception:\n    f = None\n",
            [f"3: tensorrt.BuilderFlag.FP16: missing in {V11}"],
        ),
        # a name bound to a guard keeps its value
        (
            "import tensorrt as trt\n"
            "HAS_FP16 = hasattr(trt.BuilderFlag, 'FP16')\n"
            "flag = trt.BuilderFlag.FP16 if HAS_FP16 else None\n",
            [],
        ),
        # TensorRT-RTX is checked against its own bindings, with or without TensorRT
        (
            "try:\n    import tensorrt as trt\nexcept ImportError:\n    import tensorrt_rtx_bindings as trt\n"
            "trt.BuilderFlag.INT8\n",
            [
                f"5: tensorrt.BuilderFlag.INT8: missing in {V11}",
                "5: tensorrt_rtx.BuilderFlag.INT8: missing in TensorRT-RTX 1.7.1.116",
            ],
        ),
        # a shadowing local is not the module (a parameter named trt is: see the test below)
        ("import tensorrt as trt\ndef f():\n    trt = object()\n    return trt.build_engine\n", []),
        ("import tensorrt as trt\ndef f(t):\n    trt = t\n    return trt.build_engine\n", []),
        # getattr with a default is a feature test, without one it is a use
        ("import tensorrt as trt\nx = getattr(trt.Builder, 'build_engine', None)\n", []),
        (
            "import tensorrt as trt\nx = getattr(trt.Builder, 'build_engine')\n",
            [f"2: tensorrt.Builder.build_engine: missing in {V10}, {V11}"],
        ),
        # instances of classes written in Python get attributes at run time: not checked...
        (
            "# trt-api: 10.9, 11\nimport tensorrt.plugin as trtp\nlaunch = trtp.KernelLaunchParams()\nlaunch.grid_x = 4\n",
            [],
        ),
        # ... but the names of the module are
        (
            "# trt-api: 10.6, 11\nimport tensorrt.plugin as trtp\ntrtp.no_such_decorator\n",
            [f"3: tensorrt.plugin.no_such_decorator: missing in {V10}, {V11}"],
        ),
        # code that is not Python is reported, not crashed on
        ("def f(:\n", ["1: syntax: not valid Python: invalid syntax"]),
    ],
)
def test_inference_and_guards(surfaces, code, expected):
    assert run(code, surfaces) == expected


def test_names_from_the_repositorys_own_modules(surfaces):
    result = check.check_paths([FIXTURES / "pkg" / "user.py"], surfaces=surfaces)
    assert [str(p) for p in result.problems] == [
        f"tests/trt_api/fixtures/pkg/user.py:11: tensorrt.BuilderFlag.INT8: missing in {V11}",
        "tests/trt_api/fixtures/pkg/user.py:11: tensorrt_rtx.BuilderFlag.INT8: missing in TensorRT-RTX 1.7.1.116",
        f"tests/trt_api/fixtures/pkg/user.py:12: tensorrt.Logger.no_such_method (LOGGER.no_such_method): "
        f"missing in {V10}, {V11}",
        "tests/trt_api/fixtures/pkg/user.py:12: tensorrt_rtx.Logger.no_such_method (LOGGER.no_such_method): "
        "missing in TensorRT-RTX 1.7.1.116",
    ]


def test_markdown_blocks(surfaces):
    result = check.check_paths([FIXTURES / "page.md"], surfaces=surfaces)
    assert [str(p) for p in result.problems] == [
        f"tests/trt_api/fixtures/page.md:19: tensorrt.BuilderFlag.INT8: missing in {V11}",
        # the `context` block knows `builder` from the block before it
        f"tests/trt_api/fixtures/page.md:26: tensorrt.Builder.build_engine (builder.build_engine): missing in {V10}, {V11}",
        # blocks inside directives are found; the `# trt-api: 7` legacy block is not checked
        f"tests/trt_api/fixtures/page.md:43: tensorrt.UffParser: missing in {V10}, {V11}",
    ]


def test_bad_tags_are_reported(surfaces, tmp_path):
    page = tmp_path / "bad.md"
    page.write_text("```python\n# requires: tensorrtt\nx = 1\n```\n")
    result = check.check_paths([page], root=tmp_path, surfaces=surfaces)
    assert [str(p) for p in result.problems] == [
        "bad.md:2: tag: `# requires: tensorrtt`: unknown token tensorrtt; "
        "use one or more of context, gpu, tensorrt, tensorrt-rtx"
    ]


def cli(*args, cwd=REPO_ROOT):
    return subprocess.run(
        [sys.executable, "-m", "paddle_style_guide.trt_api", *args], capture_output=True, text=True, cwd=cwd
    )


def test_cli_exit_status_and_format(surfaces):
    bad = cli("check", "tests/trt_api/fixtures/removed_api.py")
    assert bad.returncode == 1
    assert f"tests/trt_api/fixtures/removed_api.py:15: tensorrt.BuilderFlag.FP16: missing in {V11}\n" in bad.stdout
    assert "3 problem(s)" in bad.stderr
    good = cli("check", "tests/trt_api/fixtures/guarded.py", "tests/trt_api/fixtures/claims.py")
    assert (good.returncode, good.stdout) == (0, "")
    missing = cli("check", "no/such/file.py")
    assert missing.returncode == 2 and missing.stderr.startswith("error: no/such/file.py:")
    assert "Traceback" not in missing.stderr


def test_cli_lookup(surfaces):
    out = cli("lookup", "--strict", "tensorrt.BuilderFlag.FP16")
    assert out.returncode == 1
    assert out.stdout == f"tensorrt.BuilderFlag.FP16: {V10}: value; {V11}: absent\n"


def test_discover_covers_the_three_locations(tmp_path):
    for rel in ("demos/a.py", "gallery/plot_b.py", "docs/c.md", "docs/auto_gallery/d.md", "tests/e.py", "docs/f.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    found = sorted(p.relative_to(tmp_path).as_posix() for p in check.discover(tmp_path))
    assert found == ["demos/a.py", "docs/c.md", "gallery/plot_b.py"]


def test_claims_are_read_from_comments_only(surfaces):
    code = '"""Docstring that shows the syntax:\n# trt-api: 10\n"""\nimport tensorrt as trt\ntrt.BuilderFlag.FP16\n'
    assert check.claim_lines(code) == []
    assert run(code, surfaces) == [f"5: tensorrt.BuilderFlag.FP16: missing in {V11}"]


def test_a_parameter_named_trt_holds_the_tensorrt_module(surfaces):
    """The demos pass the module in (``def build(trt, ...)``); its names are checked like an import's."""
    code = """
    def build(trt, network, fp16):
        config = trt.Builder(trt.Logger()).create_builder_config()
        config.set_flag(trt.BuilderFlag.FP16)
        trt_major = int(trt.__version__.split(".")[0])
        if fp16 and trt_major < 11:
            config.set_flag(trt.BuilderFlag.FP16)
        return config.max_workspace_size
    """
    assert run(code, surfaces) == [
        f"4: tensorrt.BuilderFlag.FP16: missing in {V11}",
        f"8: tensorrt.IBuilderConfig.max_workspace_size (config.max_workspace_size): missing in {V10}, {V11}",
    ]
    # Any other parameter name is an unknown receiver, as before.
    assert run(code.replace("trt", "mod"), surfaces) == []


def test_the_plugin_registry_is_typed(surfaces):
    """``get_plugin_registry`` has no Python return type in its pybind11 signature; the surface supplies it."""
    code = """
    import tensorrt as trt
    registry = trt.get_plugin_registry()
    registry.register_creator
    registry.register_creator_v2_that_never_was
    """
    assert run(code, surfaces) == [
        "5: tensorrt.IPluginRegistry.register_creator_v2_that_never_was "
        f"(registry.register_creator_v2_that_never_was): missing in {V10}, {V11}",
    ]
