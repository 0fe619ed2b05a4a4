"""Minor versions inside TensorRT 10: a name that arrived in 10.9 is reported in code that claims 10.6.

The record (paddle_style_guide/trt_api/first_versions.toml) was read from the binding sources of every 10.x
release tag of NVIDIA/TensorRT; these tests check the checker's use of it and the facts the demos rely on.
"""

import textwrap

from paddle_style_guide.trt_api import check, first_versions

QDP = """
    {claim}
    import tensorrt.plugin as trtp

    @trtp.aot_impl("ns::op")
    def aot(x: trtp.TensorDesc, outputs, tactic):
        return "k", "ptx", trtp.KernelLaunchParams(), trtp.SymIntExprs(0)
"""


def run(code, surfaces):
    unit = check.Unit("snippet.py", 1, textwrap.dedent(code))
    return [f"{p.line}: {p.name}: {p.message}" for p in check.check_units([unit], surfaces).problems]


def test_a_late_name_is_reported_against_an_older_claim(surfaces):
    problems = run(QDP.format(claim="# trt-api: 10.6, 11"), surfaces)
    assert "5: tensorrt.plugin.aot_impl: added in TensorRT 10.9, the code claims 10.6 (see `# trt-api:`)" in problems
    assert any("KernelLaunchParams: added in TensorRT 10.9" in p for p in problems)
    assert not any("TensorDesc" in p for p in problems)  # 10.6 names are fine with a 10.6 claim
    assert run(QDP.format(claim="# trt-api: 10.9, 11"), surfaces) == []


def test_plain_10_means_10_0(surfaces):
    problems = run(QDP.format(claim=""), surfaces)
    assert "3: tensorrt.plugin: added in TensorRT 10.6, the code claims 10.0 (see `# trt-api:`)" in problems
    assert "5: tensorrt.plugin.aot_impl: added in TensorRT 10.9, the code claims 10.0 (see `# trt-api:`)" in problems


def test_a_hasattr_guard_protects_a_late_name(surfaces):
    code = """
        # trt-api: 10.6, 11
        import tensorrt.plugin as trtp

        if hasattr(trtp, "aot_impl"):
            decorate = trtp.aot_impl("ns::op")
    """
    assert run(code, surfaces) == []


def test_malformed_claims_are_reported(surfaces):
    assert run("# trt-api: 10.x\nx = 1\n", surfaces) == [
        "1: trt-api: `# trt-api: 10.x`: expected TensorRT versions like `10, 11` or `10.9, 11`"]


def test_the_record_holds_what_the_quickly_deployable_plugin_needs():
    record = first_versions.load()
    for name in ("aot_impl", "KernelLaunchParams", "SymIntExprs", "SymInt32"):
        assert record[f"tensorrt.plugin.{name}"] == (10, 9), name
    for name in ("register", "impl", "autotune", "TensorDesc"):
        assert record[f"tensorrt.plugin.{name}"] == (10, 6), name
    assert record["tensorrt.INetworkDefinition.add_plugin_v3"] == (10, 0)
    assert record["tensorrt.NetworkDefinitionCreationFlag.STRONGLY_TYPED"] == (10, 0)


def test_the_record_covers_the_tensorrt_code_of_the_demos():
    used = first_versions.used_names([p for p in check.discover()
                                      if p.as_posix().split("/demos/")[-1].startswith(("trt/", "plugins/"))])
    assert used and used <= set(first_versions.load()), sorted(used - set(first_versions.load()))


def test_first_appearance_reads_pybind_literals_and_python_identifiers():
    releases = [((10, 0), ({"add_plugin_v3"}, {"trt"})), ((10, 6), ({"add_plugin_v3", "add_plugin"}, {"register"})),
                ((10, 9), ({"add_plugin_v3", "add_plugin"}, {"register", "aot_impl"}))]
    assert first_versions.first_appearance("tensorrt.INetworkDefinition.add_plugin", releases) == (10, 6)
    assert first_versions.first_appearance("tensorrt.plugin.aot_impl", releases) == (10, 9)
    # tensorrt.plugin is pure Python: a pybind string literal of the same word does not count
    assert first_versions.first_appearance("tensorrt.plugin.add_plugin_v3", releases) is None
