#!/usr/bin/env bash
# Reproduces the shipped model models/facestream-small.onnx from nothing but facekit: renders the data,
# trains (resumable: run again to continue), exports the ONNX file and its parity fixtures.
# Time on a 2-core machine: ~5 min of rendering, then the training budget below (110 min), then ~1 min.
set -euo pipefail
cd "$(dirname "$0")/../.."
MINUTES="${MINUTES:-110}"
STEPS="${STEPS:-8500}"
synth() { node build/server/cli/main.js synth --quiet "$@"; }
synth --out data/synth128/train --sequences 400 --frames 24 --size 128 --seed 100 --split train
synth --out data/synth128/val --sequences 24 --frames 24 --size 128 --seed 200 --split val
synth --out data/synth128/test --sequences 24 --frames 24 --size 128 --seed 300 --split test --raster
/usr/bin/python3 models/train/train.py --data data/synth128/train --val data/synth128/val --config small \
  --out models/train/runs/small --steps "$STEPS" --minutes "$MINUTES"
/usr/bin/python3 models/train/export_onnx.py --checkpoint models/train/runs/small/checkpoint.pt \
  --out models/facestream-small.onnx \
  --training-note '{"data": "facelive synth train split: 400 sequences x 24 frames at 128 px, seed 100"}' \
  --fixtures models/fixtures/facestream-small-parity --frames data/synth128/test/seq_0000
