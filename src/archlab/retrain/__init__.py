"""`archlab retrain`: the unattended job that re-ingests, gates on drift, re-runs the pipeline and promotes only a
better model. Modules: lock (one job at a time), drift (new data against the champion's), pipeline (`dvc repro`
as a child process), report (JSON + Markdown + MLflow) and job (the steps in order)."""
