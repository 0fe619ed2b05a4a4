"""Debugging the precision of a low-precision model: Polygraphy comparisons, layer by layer, and the flags
of the command line tools a TensorRT user runs (``polygraphy``, ``trtexec``).

============================  ============================================================================
:mod:`.polygraphy_cli`        run ``polygraphy`` as a reader types it; its own argument parser, for checks
:mod:`.layerwise`             per-tensor errors in graph order, the first layer whose error explodes
:mod:`.cli_flags`             the ``polygraphy``/``trtexec`` commands shown on the site, checked
``trtexec_flags.toml``        trtexec options with the TensorRT release each appeared/disappeared in
============================  ============================================================================
"""
