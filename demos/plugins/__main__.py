"""Command line: export the plugin-bearing ONNX model, build a plan from it.

    python -m demos.plugins export --out work/stem.onnx [--preset imagenet|efficientnet] [--out-dtype float16]
                                   [--namespace lowprec|lowprec_qdp] [--jit] [--plugin-only]
    python -m demos.plugins build --onnx work/stem.onnx [--plan work/stem.plan] [--report work/build.json]
    python -m demos.plugins run --plan work/stem.plan [--buffers torch|cuda-python|pycuda]   # TensorRT + GPU
    python -m demos.plugins.gpu_check --out results.json     # on a GPU machine (no TensorRT needed)
"""

from __future__ import annotations

import argparse
import json
import sys

from demos import files
from demos.errors import run_cli
from demos.plugins import PLUGIN_NAMESPACE, QUICK_NAMESPACE

PRESETS = ("imagenet", "efficientnet")


def _fields(preset: str, out_dtype: str):
    from demos.plugins.fields import EFFICIENTNET_LITE, IMAGENET

    return (IMAGENET if preset == "imagenet" else EFFICIENTNET_LITE).with_out_dtype(out_dtype)


def cmd_export(args) -> None:
    from pathlib import Path

    from demos.errors import UserError
    from demos.plugins import onnx_export

    if Path(args.out).is_dir():  # checked before the export, which takes seconds
        raise UserError(f"--out {args.out} is a folder; give the ONNX file name to write")
    fields = _fields(args.preset, args.out_dtype)
    aot = False if args.jit else None
    if args.plugin_only:
        import onnx

        model = onnx_export.plugin_only_model(fields, args.namespace, aot)
        with files.atomic_path(args.out, suffix=".onnx") as tmp:
            onnx.save(model, str(tmp))
        print(f"wrote {args.out}: uint8 NHWC image -> {fields.describe()} (the plugin alone)")
        return
    stem = onnx_export.resnet_stem()
    if args.out_dtype == "float16":
        stem = stem.half()  # the convolution takes what the plugin produces
    model = onnx_export.WithPreprocess(stem, fields)
    path = onnx_export.export(model, args.out, namespace=args.namespace, aot=aot)
    print(f"wrote {path}: uint8 NHWC image -> {fields.describe()} -> ResNet stem (seeded random weights)")


def cmd_build(args) -> None:
    from demos.plugins.build import Profile, build_plan
    from demos.trt import rtx

    if not args.no_reexec and _binds_rtx():
        rtx.reexec_if_needed()  # TensorRT-RTX's parser needs libtensorrt_rtx.so on LD_LIBRARY_PATH
    profile = Profile(min=Profile.parse(args.min), opt=Profile.parse(args.opt), max=Profile.parse(args.max))
    report = build_plan(args.onnx, profile=profile, plan_path=args.plan, onnx_checks=not args.skip_onnx_checks)
    if args.report:
        files.write_json(args.report, report)
    plan = report["plan"]
    print(f"built a {plan['bytes']} byte plan with {report['tensorrt']['product']} {report['tensorrt']['version']}; "
          f"plugin fields in plan: {all(plan['contains_fields'].values())}")
    print(json.dumps(report["plugin_calls"]))


def cmd_run(args) -> None:
    from demos.plugins.run import run_plan

    result = run_plan(args.plan, args.buffers)
    print(json.dumps(result))


def _binds_rtx() -> bool:
    from demos.plugins.build import _uses_rtx

    return _uses_rtx()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demos.plugins", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("export", help="export uint8 image -> plugin -> ResNet stem to ONNX")
    p.add_argument("--out", required=True, help="ONNX file to write")
    p.add_argument("--preset", choices=PRESETS, default="imagenet", help="mean/std: torchvision ImageNet or EfficientNet-Lite")
    p.add_argument("--out-dtype", choices=("float32", "float16"), default="float32")
    p.add_argument("--namespace", default=PLUGIN_NAMESPACE,
                   help=f"plugin_namespace: {PLUGIN_NAMESPACE} (IPluginV3 class) or {QUICK_NAMESPACE} (tensorrt.plugin)")
    p.add_argument("--jit", action="store_true",
                   help=f"{QUICK_NAMESPACE} only: the just-in-time implementation (default: ahead-of-time, aot=1)")
    p.add_argument("--plugin-only", action="store_true", help="the plugin alone, without the ResNet stem")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("build", help="parse the ONNX model with the plugin registered and build a plan")
    p.add_argument("--onnx", required=True)
    p.add_argument("--plan", help="write the serialized plan here")
    p.add_argument("--report", help="write the build report (JSON) here")
    p.add_argument("--min", default="1x224x224", help="smallest NxHxW of the optimization profile")
    p.add_argument("--opt", default="8x224x224", help="NxHxW the builder optimizes for")
    p.add_argument("--max", default="32x512x512", help="largest NxHxW")
    p.add_argument("--no-reexec", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--skip-onnx-checks", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_build)
    p = sub.add_parser("run", help="run a plan with the plugin on random uint8 images (TensorRT and a GPU)")
    p.add_argument("--plan", required=True, help="a plan written by `build --plan` (with its .json sidecar)")
    p.add_argument("--buffers", choices=("torch", "cuda-python", "pycuda"), default="torch")
    p.set_defaults(func=cmd_run)
    args = parser.parse_args(argv)
    return run_cli(args.func, args)


if __name__ == "__main__":
    sys.exit(main())
