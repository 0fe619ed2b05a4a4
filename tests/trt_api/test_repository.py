"""Every TensorRT name used in demos/, gallery/, tools/ and the Markdown code blocks exists
in each TensorRT version the code claims to support (run on the repository as it grows)."""

from paddle_style_guide.trt_api import check


def test_repository_conforms(surfaces):
    files = check.discover()
    result = check.check_paths(files, surfaces=surfaces)
    assert [str(p) for p in result.problems] == []
    # The repository does contain Markdown code blocks to check (this file's own guide, at least).
    assert result.units > 0 and any(f.suffix == ".md" for f in files)
