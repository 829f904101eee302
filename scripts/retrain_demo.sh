#!/usr/bin/env bash
# The scheduled-retraining demo on embedded data (`make retrain-demo`): a scratch project whose image folder
# receives the digits in four time-ordered batches; `archlab retrain` runs after each, as a scheduler would.
# Batches 1-3 are clean (the champion is set, then challenged); batch 4 is inverted and the drift gate stops it.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
demo=${1:-/tmp/archlab-retrain-demo}
export PATH="$here/.venv/bin:$PATH"

rm -rf "$demo"
mkdir -p "$demo/data/raw"
cp -r "$here/dvc.yaml" "$here/stages" "$here/src" "$here/.gitignore" "$demo/"
cp "$here/data/raw/README.md" "$demo/data/raw/"
mkdir -p "$demo/metrics/cv" && cp "$here/metrics/cv/README.md" "$demo/metrics/cv/"
cat > "$demo/params.yaml" <<'PARAMS'
task: image_classification
project: {name: retrain-demo, seed: 42}
mlflow: {tracking_uri: "sqlite:///mlflow.db"}
ingest: {source: image_dir, path: data/raw, image_size: [8, 8]}
validate: {min_per_class: 3, max_imbalance_ratio: 4.0}
train:
  architectures: [baseline, shallow_mlp, cnn]
  feature_heads: []
  seeds: []
  baseline: {C: 1.0}
  shallow_mlp: {hidden_units: 128, epochs: 60, patience: 8}
  cnn: {filters: [16, 32], dense_units: 64, epochs: 40, patience: 8}
featurize: {backbones: []}
compare: {folds: 0, repeats: 1, rope: 0.01, architectures: []}
tune: {trials: 0}
evaluate: {bootstrap_resamples: 500, latency_calls: 10}
register: {metric: accuracy, min_delta: 0.0}
PARAMS
cd "$demo"
git init -q && git config user.email demo@archlab.invalid && git config user.name "archlab demo"
dvc init -q && dvc config core.analytics false
git add -A && git commit -qm "retrain demo"

for batch in 1 2 3 4; do
  drift=none
  [ "$batch" = 4 ] && drift=invert
  archlab simulate-arrivals data/raw --batch "$batch" --batches 4 --drift "$drift"
  code=0
  archlab retrain > "retrain-$batch.md" 2> "retrain-$batch.log" || code=$?
  latest=$(ls -t reports/retrain/*.md | head -1)
  echo "retrain after batch $batch ($drift): exit $code; $(head -1 "$latest"); $(grep -m1 '^\*\*' "$latest")"
done
echo "reports: $demo/reports/retrain/ (MLflow: cd $demo && archlab ui)"
