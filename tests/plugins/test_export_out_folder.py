"""Issue 16: ``plugins export --out <folder>`` used to export for seconds, then fail with a traceback."""

from __future__ import annotations

from demos.plugins.__main__ import main


def test_export_to_a_folder_is_one_line_before_any_work(tmp_path, capsys, monkeypatch):
    from demos.plugins import onnx_export

    monkeypatch.setattr(onnx_export, "export", lambda *a, **k: (_ for _ in ()).throw(AssertionError("exported")))
    assert main(["export", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: --out {tmp_path} is a folder; give the ONNX file name to write"]
    assert list(tmp_path.iterdir()) == []
