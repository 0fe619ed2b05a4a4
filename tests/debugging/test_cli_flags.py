"""The polygraphy and trtexec commands the site shows are valid for the versions they claim (issue 17)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from demos.debugging import cli_flags
from demos.debugging.cli_flags import Block, check_polygraphy, check_trtexec, commands_in

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "gallery/debugging/plot_debugging_precision.py"


@pytest.fixture(scope="module")
def parser():
    from demos.debugging import polygraphy_cli

    return polygraphy_cli.parser()


def test_every_command_on_the_site_passes():
    commands = cli_flags.site_commands()
    tools = {c.tool for c in commands}
    assert tools == {"polygraphy", "trtexec"}, "the debugging page shows both tools"
    trtexec = [c for c in commands if c.tool == "trtexec"]
    # The list of precision paths and tools is on the page, each for the versions that have it.
    used = {w.split("=")[0] for c in trtexec for w in c.argv}
    for flag in ("--fp16", "--stronglyTyped", "--int8", "--calib", "--best", "--useCudaGraph", "--dumpLayerInfo",
                 "--profilingVerbosity", "--loadEngine", "--saveEngine", "--timingCacheFile"):
        assert flag in used, flag
    assert {v for c in trtexec for v in c.versions} == {10, 11}
    subcommands = {" ".join(c.argv[:2]) for c in commands if c.tool == "polygraphy"}
    assert {"convert fp32.onnx", "debug precision", "inspect model"} <= subcommands
    assert cli_flags.check(commands) == []


def test_the_command_line_entry_checks_a_page(capsys):
    assert cli_flags.main([str(PAGE)]) == 0
    assert re.search(r"cli_flags: \d+ command\(s\) of polygraphy, trtexec checked, 0 problem", capsys.readouterr().out)
    assert cli_flags.main([str(ROOT / "no-such-page.md")]) == 2


@pytest.mark.parametrize("argv, problem", [
    ("run model.onnx --trt --onnxrt --atl 1e-3", "unknown option --atl"),
    ("run model.onnx --onnxrt --onnx-out mark all", "unknown option --onnx-out"),  # an argparse prefix
    ("debug precision model.onnx --mode bisection --check polygraphy run x.engine --trt", "rejects it"),
    ("debug precision model.onnx --check polygraphy run x.engine --trt --load-output a.json", "in --check"),
    ("inspect model model.onnx --show layer", "rejects it"),
])
def test_polygraphy_mistakes_are_caught(parser, argv, problem):
    found = check_polygraphy(argv.split(), parser)
    assert any(problem in p for p in found), found


def test_correct_polygraphy_commands_pass(parser):
    for argv in ("run int8.onnx --trt --strongly-typed --onnxrt --check-error-stat median --atol 0.2 --rtol 0.2",
                 "inspect model int8.plan --show layers",
                 "convert fp32.onnx --int8 --calibration-cache c.cache -o out.plan"):
        assert check_polygraphy(argv.split(), parser) == [], argv


@pytest.mark.parametrize("argv, versions, problem", [
    ("--onnx=m.onnx --fp16", (11,), "removed in TensorRT 11.0"),
    ("--onnx=m.onnx --fp16", (10, 11), "removed in TensorRT 11.0"),
    ("--onnx=m.onnx --best --calib=c.cache --int8", (11,), "removed"),
    ("--loadEngine=e.plan --useCudaGraph", (11,), "deprecated since TensorRT 11.0"),
    ("--onnx=m.onnx --stronglyTyped", (11,), "deprecated"),
    ("--onnx=m.onnx --noCudaGraph", (10,), "appeared in TensorRT 11.0"),
    ("--onnx=m.onnx --profilingVerbosity=verbose", (10,), "expected one of"),
    ("--onnx=m.onnx --fp-16", (10,), "not in trtexec_flags.toml"),
    ("--onnx=m.onnx --fp16", (), "does not say which TensorRT version"),
    ("m.onnx", (10,), "is not an option"),
])
def test_trtexec_mistakes_are_caught(argv, versions, problem):
    found = check_trtexec(argv.split(), versions)
    assert any(problem in p for p in found), found


def test_trtexec_commands_valid_for_their_versions_pass():
    assert check_trtexec("--onnx=m.onnx --fp16 --best --int8 --calib=c --useCudaGraph".split(), (10,)) == []
    # Deprecated on 11 but needed on 10: fine in a command meant for both.
    assert check_trtexec("--onnx=m.onnx --stronglyTyped --useCudaGraph".split(), (10, 11)) == []
    assert check_trtexec("--loadEngine=e.plan --noCudaGraph --profilingVerbosity=detailed".split(), (11,)) == []


def test_the_flag_list_names_its_sources():
    data = tomllib.loads(cli_flags.FLAGS_FILE.read_text(encoding="utf-8"))
    sources = data["sources"]
    assert all(url.startswith("https://") for url in sources.values())
    assert any("docs.nvidia.com" in url for url in sources.values())
    release = re.compile(r"^\d+\.\d+(\.\d+)?$")
    for name, entry in data["options"].items():
        assert name.startswith("--")
        assert release.match(entry["added"]), name
        for field in ("removed", "deprecated"):
            if field in entry:
                assert release.match(entry[field]), (name, field)
                assert cli_flags._release(entry[field]) > cli_flags._release(entry["added"]), (name, field)
        assert entry["sources"], name
        for ref in entry["sources"]:
            key, _, tag = ref.partition("@")
            assert key in sources, (name, ref)
            assert ("{tag}" in sources[key]) == bool(tag), (name, ref)


def test_commands_are_found_in_gallery_text_and_markdown(tmp_path):
    script = tmp_path / "plot_x.py"
    script.write_text("""# %%
# Some text.
#
# .. code-block:: console
#
#    # TensorRT 10
#    $ trtexec --onnx=a.onnx \\
#        --fp16
#    # TensorRT 10 and 11
#    $ polygraphy run a.onnx --onnxrt
#
# More text, not a command: $ trtexec --bogus
x = 1
""", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text("Text\n\n```console\n# TensorRT 11\n$ trtexec --loadEngine=e.plan\n$ ls\n```\n", encoding="utf-8")
    found = cli_flags.site_commands([script, page])
    assert [(c.tool, c.argv, c.versions) for c in found] == [
        ("trtexec", ["--onnx=a.onnx", "--fp16"], (10,)),
        ("polygraphy", ["run", "a.onnx", "--onnxrt"], (10, 11)),
        ("trtexec", ["--loadEngine=e.plan"], (11,)),
    ]
    assert found[0].source.endswith("plot_x.py:7")  # the line of the `$ trtexec`


def test_a_block_without_commands_gives_none():
    assert commands_in(Block("x", 1, ["$ echo hello", "output"])) == []


def test_trt_vs_onnxrt_comparison_runs_onnx_runtime_without_optimizations():
    """Review item C20: with its default (all) optimizations ONNX Runtime rewrites a Q/DQ model (integer
    kernels, saturated int32 biases), so every command that compares TensorRT with ONNX Runtime turns them off."""
    both = [c for c in cli_flags.site_commands([PAGE])
            if c.tool == "polygraphy" and "--trt" in c.argv and "--onnxrt" in c.argv]
    assert both, "the page shows a TensorRT vs ONNX Runtime comparison"
    for c in both:
        assert "--graph-optimization-level" in c.argv, c.argv
        assert c.argv[c.argv.index("--graph-optimization-level") + 1] == "ORT_DISABLE_ALL", c.argv


def test_legacy_commands_read_a_cache_tensorrt_wrote():
    """Review item A2: the ptq stage's int8_<method>.calib.cache files are not TensorRT caches; the TensorRT 10
    commands read the cache that ``ptq --trt10-legacy`` keeps (demos.trt.legacy.calibrate_from_args)."""
    import inspect

    from demos.trt import legacy

    written = re.search(r'wd\.path\("([^"]+\.calib\.cache)"\)', inspect.getsource(legacy.calibrate_from_args))[1]
    caches = []
    for c in cli_flags.site_commands([PAGE]):
        for i, word in enumerate(c.argv):
            if word == "--calibration-cache":
                caches.append(c.argv[i + 1])
            elif word.startswith("--calib="):
                caches.append(word.split("=", 1)[1])
    assert len(caches) == 3 and set(caches) == {written}, caches
