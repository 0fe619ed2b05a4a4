#!/usr/bin/env bash
# Re-run every committed accuracy result of the ResNet50 demo, in order, with the committed commands
# (demos/resnet50/results/README.md lists the same commands). Run it from the repository root, on a quiet
# machine (the CPU pipeline also benchmarks):
#
#   tools/regenerate_results.sh                  # pipeline, calib_study, qat_study (about 1-2 hours on 2 cores)
#   tools/regenerate_results.sh qat_study        # one part: pipeline | calib_study | qat_study | resnet50_cpu_bench
#   TINY=1 tools/regenerate_results.sh           # every command at tiny sizes, into a temporary folder: a check
#
# Nothing is written to demos/resnet50/results/ unless the part succeeded (each result file is written
# atomically by the demo; the pipeline's folder is replaced only after its last stage).
set -euo pipefail

PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
DEMO="$PY -m demos.resnet50"
if [ "${TINY:-0}" = 1 ]; then
  RESULTS=${RESULTS:-$(mktemp -d)}
  BUILD=$(mktemp -d)
  # Tiny sizes: the same commands on every 5th sample image (links in a temporary folder, with their
  # labels.csv rows), with counts that run in minutes. Nothing is copied into the repository.
  SAMPLES=${SAMPLES:-../shared/data/imagenet-samples}
  DATA=$BUILD/samples
  mkdir -p "$DATA"
  awk -F, -v d="$DATA" -v s="$(cd "$SAMPLES" && pwd)" \
    'NR == 1 { print > (d "/labels.csv"); next } NR % 5 == 0 { print >> (d "/labels.csv"); system("ln -s \"" s "/" $1 "\" \"" d "/" $1 "\"") }' \
    "$SAMPLES/labels.csv"
  D="--data $DATA"
  FP16_ARGS="$D --calib-count 4"; PTQ_ARGS="$D --calib-count 16 --methods max percentile"
  QAT_ARGS="$D --calib-count 8 --epochs 1 --batch 8"; EVAL_ARGS="$D --eval-count 8"
  BENCH_ARGS="--iterations 1 --repeats 1 --warmup 0"; BUILD_ARGS="--opt-batch 8 --max-batch 16"
  STUDY_ARGS="$D --calib-images 60 --sens-images 2"; QAT_STUDY_ARGS="$D --eval-count 8 --calib-count 8 --epochs 1"
else
  RESULTS=${RESULTS:-demos/resnet50/results}
  BUILD=build
  FP16_ARGS=""; PTQ_ARGS=""; QAT_ARGS=""; EVAL_ARGS=""; BENCH_ARGS=""; BUILD_ARGS=""; STUDY_ARGS=""
  QAT_STUDY_ARGS=""
fi
PARTS=("$@")
[ ${#PARTS[@]} -gt 0 ] || PARTS=(pipeline calib_study qat_study)
LITE0=$BUILD/demo/efficientnet_lite0

say() { printf '\n=== %s\n' "$*"; }

export_lite0() {
  [ -f "$LITE0/fp32.onnx" ] || $DEMO --workdir "$LITE0" export --model efficientnet_lite0
}

pipeline() {  # -> $RESULTS/cpu_efficientnet_lite0/
  say "EfficientNet-Lite0 CPU pipeline (all defaults) in $LITE0"
  rm -rf "$LITE0"
  $DEMO --workdir "$LITE0" export --model efficientnet_lite0
  $DEMO --workdir "$LITE0" fp16 $FP16_ARGS
  $DEMO --workdir "$LITE0" ptq $PTQ_ARGS
  $DEMO --workdir "$LITE0" qat $QAT_ARGS
  $DEMO --workdir "$LITE0" eval $EVAL_ARGS
  $DEMO --workdir "$LITE0" build $BUILD_ARGS
  $DEMO --workdir "$LITE0" bench --backend ort --models fp32 fp16 int8_max cpu_int8_trt_scales cpu_int8_best $BENCH_ARGS
  $DEMO --workdir "$LITE0" report
  local dest=$RESULTS/cpu_efficientnet_lite0
  mkdir -p "$dest"
  rm -f "$dest"/*.json "$dest"/report.*
  cp "$LITE0"/results/*.json "$LITE0"/report.json "$LITE0"/report.md "$LITE0"/report.png "$dest"/
}

calib_study() {  # -> $RESULTS/calib_study_efficientnet_lite0.json
  say "calibration study"
  export_lite0
  $PY -m demos.resnet50.calib_study --onnx "$LITE0/fp32.onnx" --workdir "$BUILD/calib_study" \
    --out "$RESULTS/calib_study_efficientnet_lite0.json" $STUDY_ARGS
}

qat_study() {  # -> $RESULTS/qat_study_efficientnet_lite0.json
  say "PTQ vs QAT study"
  $PY -m demos.resnet50.qat --out "$RESULTS/qat_study_efficientnet_lite0.json" --epochs 4 --lr 1e-5 --optimizer adam \
    $QAT_STUDY_ARGS
}

resnet50_cpu_bench() {  # -> $RESULTS/bench_cpu_resnet50_random.json (speed only: random weights)
  say "ResNet50 (random weights) on ONNX Runtime CPU"
  local wd=$BUILD/demo/resnet50
  rm -rf "$wd"
  $DEMO --workdir "$wd" export --weights random
  $DEMO --workdir "$wd" ptq --methods max --calib-count 64
  $DEMO --workdir "$wd" bench --backend ort --threads 2 --batch 8 --iterations 20 \
    --models fp32 int8_max cpu_int8_trt_scales cpu_int8_best $BENCH_ARGS
  cp "$wd/results/bench_ort.json" "$RESULTS/bench_cpu_resnet50_random.json"
}

for part in "${PARTS[@]}"; do
  case $part in
    pipeline|calib_study|qat_study|resnet50_cpu_bench) "$part" ;;
    *) echo "error: unknown part $part (pipeline, calib_study, qat_study, resnet50_cpu_bench)" >&2; exit 2 ;;
  esac
done
say "done: results in $RESULTS"
