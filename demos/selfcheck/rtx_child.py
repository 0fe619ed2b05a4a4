"""The TensorRT-RTX builds of the self-check, in a child process started with ``demos.trt.rtx.child_env()``.

TensorRT-RTX's ONNX parser loads ``libtensorrt_rtx.so`` when it meets a plugin node, and finds it only
through ``LD_LIBRARY_PATH`` as set when the process starts.  Input: a JSON file listing jobs
(``name``, ``kind`` network|plugin, ``onnx``, ``plan``); output: one ``RESULT {name: result}`` line.
"""

from __future__ import annotations

import json
import sys


def build(job: dict) -> dict:
    from demos import files
    from demos.errors import UserError

    try:
        if job["kind"] == "plugin":
            from demos.plugins.build import Profile, build_plan

            return build_plan(job["onnx"], profile=Profile(min=(1, 8, 8), opt=(2, 32, 48), max=(4, 64, 64)),
                              plan_path=job["plan"])
        from demos.trt import builder, rtx_build

        trt = rtx_build.import_bindings()
        plan, info = builder.build(trt, job["onnx"], builder.BuildOptions("rtx", 1, 8, 32, 1.0))
        files.write_bytes(job["plan"], plan)
        return {"plan_bytes": len(plan), "network": info["network"], "tensorrt_version": trt.__version__}
    except UserError as exc:
        return {"error": str(exc)}


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as fh:
        jobs = json.load(fh)
    print("RESULT " + json.dumps({job["name"]: build(job) for job in jobs}), flush=True)
