"""The benchmark's corpus is a fair test: on a small corpus the checker
reports exactly the planted broken links."""

import sys

from conftest import ROOT

from paddle_style_guide import Options, check_paths

sys.path.insert(0, str(ROOT / "tools"))
import bench_link_checker as bench  # noqa: E402


def test_small_corpus(tmp_path):
    links, planted = bench.make_corpus(str(tmp_path / "c"), 303, seed=1)
    result = check_paths([str(tmp_path / "c")], Options(jobs=1))
    assert result.files == 303 and result.links == links == 303 * bench.LINKS_PER_PAGE
    found = sorted((p.file.split("/c/")[-1], "anchor" in p.reason) for p in result.problems)
    expected = sorted((page, kind == "missing anchor") for page, kind, _ in planted)
    assert found == expected and len(planted) == 7


def test_worker_processes_give_the_serial_result(tmp_path):
    """Scanning and resolving in forked workers (above 64 files) changes nothing: same problems in the
    same order, same counts, same external links."""
    bench.make_corpus(str(tmp_path / "c"), 303, seed=2)
    serial = check_paths([str(tmp_path / "c")], Options(jobs=1))
    parallel = check_paths([str(tmp_path / "c")], Options(jobs=2))
    assert serial.problems and serial.external
    assert (parallel.problems, parallel.files, parallel.links, parallel.ignored, parallel.external) == \
        (serial.problems, serial.files, serial.links, serial.ignored, serial.external)
