#!/usr/bin/env bash
# `make run-task TASK=<name>`: run the whole pipeline (`dvc repro`) for one task's example params file
# (params/<name>.yaml) in a fresh scratch git + DVC project (replaced on every call), so the main project's
# params.yaml and dvc.lock stay as they are. The project folder defaults to runs/<name>; its MLflow store is
# runs/<name>/mlflow.db
# (`archlab ui --tracking-uri sqlite:///runs/<name>/mlflow.db` opens it).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
task=${1:?usage: run_task.sh TASK [FOLDER]}
params="$here/params/$task.yaml"
[ -f "$params" ] || { echo "no example params for task '$task': $params not found; have: $(ls "$here/params")" >&2; exit 2; }
project=${2:-$here/runs/$task}
export PATH="$here/.venv/bin:$PATH"

rm -rf "$project"
mkdir -p "$project/data/raw"
cp -r "$here/dvc.yaml" "$here/stages" "$here/src" "$here/.gitignore" "$project/"
rm -rf "$project/src/archlab.egg-info"
cp "$here/data/raw/README.md" "$project/data/raw/"
mkdir -p "$project/metrics/cv" && cp "$here/metrics/cv/README.md" "$project/metrics/cv/"
cp "$params" "$project/params.yaml"
cd "$project"
git init -q && git config user.email run@archlab.invalid && git config user.name "archlab run-task"
dvc init -q && dvc config core.analytics false
git add -A && git commit -qm "run-task $task"
dvc repro
archlab summary
