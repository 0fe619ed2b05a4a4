"""The plugin code against the real TensorRT 10 and 11 Python bindings (no TensorRT runtime here).

- ``trt_probe.py`` runs the quickly deployable plugin through the real ``tensorrt.plugin`` package
  (its signature validation, creator, JIT and AOT plugin classes, autotune and the AOT compile) and the
  IPluginV3 class through the real binding classes;
- the API conformance checker confirms every TensorRT name in demos/plugins and gallery/plugins exists
  in TensorRT 10, 11 and, where used, TensorRT-RTX (the network-API path is only checked this way:
  building a network needs libnvinfer).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from paddle_style_guide.trt_api import bindings

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

pytestmark = pytest.mark.slow


@functools.lru_cache(maxsize=None)
def _probe(key: str) -> dict:
    target = bindings.TARGETS_BY_KEY[key]
    bindings.ensure_surface(target)  # downloads and verifies the pinned wheel if needed
    site = bindings.unpack(target, bindings.fetch_wheels([target])[key])
    stub = bindings.build_stub(site / target.package / (target.module + ".so"))
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, "LD_LIBRARY_PATH": str(stub)}
    proc = subprocess.run([sys.executable, "-s", str(HERE / "trt_probe.py"), str(site)], env=env,
                          capture_output=True, text=True, timeout=300, cwd=HERE)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("key", ["10", "11"])
def test_quickly_deployable_plugin_against_real_tensorrt_plugin_package(key):
    out = _probe(key)
    assert out["version"] == bindings.TARGETS_BY_KEY[key].version
    qdp = out["qdp"]
    assert ["PreprocessNHWC", "1", "lowprec_qdp"] in qdp["registered"]
    assert qdp["inputs"] == ["image"] and qdp["attributes"] == ["mean", "std", "out_dtype"]
    assert qdp["impl_attributes"] == qdp["aot_impl_attributes"] == ["mean", "std", "out_dtype"]
    assert qdp["autotune_attributes"] == ["out_dtype"]
    assert qdp["has_impl"] and qdp["has_aot_impl"]
    assert (qdp["jit_class"], qdp["aot_class"]) == ("_TemplateJITPlugin", "_TemplateAOTPlugin")
    assert qdp["output_types"] == qdp["aot_output_types"] == ["DataType.HALF"]
    assert "insert a Cast to float16" in qdp["uint8_rejected"]
    assert "rank 4" in qdp["rank3_rejected"]
    assert "'std' must be > 0" in qdp["bad_field_rejected"]
    # float32 or float16 in ("*": independent), float16 out: two combinations.
    assert len(qdp["autotune"][0]) == 2
    assert qdp["aot"] == {"kernel": "preprocess_kernel", "ptx_entry": True, "launch": "KernelLaunchParams", "extra_args": 2}


@pytest.mark.parametrize("key", ["10", "11"])
def test_ipluginv3_class_against_real_tensorrt_bindings(key):
    v3 = _probe(key)["v3"]
    assert v3 == {"registered": True, "round_trip": True, "output_types": ["DataType.HALF"], "formats": [True, True],
                  "uint8_rejected": v3["uint8_rejected"], "has_add_plugin_v3": True}
    assert "insert a Cast to float16" in v3["uint8_rejected"]


def test_every_tensorrt_name_used_exists_in_the_versions_claimed():
    proc = subprocess.run([sys.executable, "-m", "paddle_style_guide.trt_api", "check", "demos/plugins", "demos/trt",
                           "gallery/plugins"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "all TensorRT names found" in proc.stdout + proc.stderr
