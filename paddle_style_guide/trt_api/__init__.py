"""TensorRT API conformance: every TensorRT name our code uses exists in each version it claims.

- :mod:`.bindings` fetches the pinned TensorRT binding wheels and records each version's API surface;
- :mod:`.check` finds TensorRT names in demos/, gallery/, tools/ and Markdown code blocks and checks
  them per version with :mod:`.walker`;
- :mod:`.blocks` reads fenced code blocks and their tags from MyST pages;
- :mod:`.migration` holds the old-API -> TensorRT 10 -> TensorRT 11 table, verified against the surfaces.

CLI: ``python -m paddle_style_guide.trt_api --help``.
"""
