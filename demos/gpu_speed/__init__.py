"""Why low precision is fast: GPU measurements and the arithmetic behind the "Speed" page.

* ``python -m demos.gpu_speed --out RESULT.json`` measures dense matmul throughput per data type and DRAM
  bandwidth on a GPU with PyTorch (:mod:`.microbench`) and writes them with provenance (:mod:`.results`).
* :mod:`.datasheet`: NVIDIA's datasheet peaks for the H100 SXM and H200 SXM, with their sources.
* :mod:`.mlperf`: published MLPerf Inference ResNet50 results, with their sources.
* :mod:`.roofline`: ResNet50's work and memory traffic counted with forward hooks, and roofline arithmetic.
* :mod:`.analysis`: what the gallery page derives from all of the above.
"""
