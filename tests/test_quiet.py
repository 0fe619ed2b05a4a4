"""demos.quiet: the known noise of ModelOpt on a CPU machine is handled in one place (review item B16).

* ModelOpt's timestamped ``ERROR - Failed to get GPU count: NVML ...`` becomes one note, once per page or stage;
* ModelOpt's ``print("Inserted N quantizers")`` is dropped, in the module that prints it and nowhere else;
* everything else still shows.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

from demos import quiet

REPO = Path(__file__).resolve().parent.parent
NOTE = quiet.LOG_NOTES["modelopt.onnx"]["Failed to get GPU count"]


def test_nvml_error_becomes_one_note_and_other_errors_show(capsys):
    logger = logging.getLogger("modelopt.onnx")
    shown = []
    handler = logging.Handler()
    handler.emit = lambda record: shown.append(record.getMessage())
    before = list(logger.filters)
    logger.addHandler(handler)
    try:
        quiet.reset_notes()
        with quiet.notes():
            for _ in range(2):
                logger.error("Failed to get GPU count: NVML Shared Library Not Found")
                logger.error("Failed to parse the model")  # not known: it stays
        quiet.reset_notes()  # a new stage run or page: the note is shown again
        with quiet.notes():
            logger.error("Failed to get GPU count: NVML Shared Library Not Found")
        logger.error("Failed to get GPU count: outside the block, the line is ModelOpt's again")
    finally:
        logger.removeHandler(handler)
    assert shown == ["Failed to parse the model"] * 2 + [
        "Failed to get GPU count: outside the block, the line is ModelOpt's again"]
    assert capsys.readouterr().out.splitlines() == [NOTE, NOTE]
    assert logger.filters == before


def test_print_noise_is_dropped_in_its_module_only(tmp_path, monkeypatch, capsys):
    """The quiet ``print`` is set when the module is imported (after install) and drops only the known lines."""
    (tmp_path / "noisy_lib.py").write_text(textwrap.dedent("""
        def work(n):
            print(f"Inserted {n} quantizers")
            print(f"Inserted {n} quantizers and more")  # not a whole known line
            print("Inserted", n, "quantizers")  # the same line, printed in pieces
            print(f"Inserted {n} quantizers", file=__import__("sys").stderr)  # not stdout: left alone
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(quiet.PRINT_NOISE, "noisy_lib", (r"Inserted \d+ quantizers",))
    monkeypatch.delitem(sys.modules, "noisy_lib", raising=False)
    # install() for this test only: the loggers' filters, the import hook and the warning filters come back.
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    for name in {*quiet.LOG_NOISE, *quiet.LOG_NOTES}:
        logger = logging.getLogger(name)
        monkeypatch.setattr(logger, "filters", list(logger.filters))
    with warnings.catch_warnings():
        quiet.install()
    import noisy_lib

    noisy_lib.work(3)
    print("Inserted 3 quantizers")  # this module's print is the builtin one
    out, err = capsys.readouterr()
    assert out.splitlines() == ["Inserted 3 quantizers and more", "Inserted 3 quantizers"]
    assert err.splitlines() == ["Inserted 3 quantizers"]


def test_modelopt_quantizer_count_is_quiet_after_install():
    """Real ModelOpt in a fresh interpreter, as on a gallery page: install() first, mtq.quantize later."""
    script = textwrap.dedent("""
        from demos import quiet
        quiet.install()
        import torch
        import modelopt.torch.quantization as mtq
        from modelopt.torch.quantization import conversion

        def quantize():
            model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU())
            mtq.quantize(model, mtq.INT8_DEFAULT_CFG, lambda m: m(torch.randn(2, 3, 8, 8)))

        quantize()
        print("quiet run done")
        del conversion.print  # ModelOpt's module prints with the builtin again: the line is really there
        quantize()
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert "quiet run done" in lines, result.stdout
    before, after = lines[:lines.index("quiet run done")], lines[lines.index("quiet run done") + 1:]
    assert not [ln for ln in before if ln.startswith("Inserted")], before
    assert any(ln.startswith("Inserted") and ln.endswith("quantizers") for ln in after), after
