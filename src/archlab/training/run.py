"""The train stage's logic for one architecture: data in, model + MLflow run + DVC metrics and plots out."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from archlab import modelio, tasks, tracking, tracking_worker
from archlab.architectures.classical import size_skip_reason
from archlab.architectures.registry import Architecture, get
from archlab.data import store
from archlab.data.profile import DATA_PROFILE
from archlab.errors import ValidationFailed
from archlab.params import Params
from archlab.training.balance import sample_figure
from archlab.training.data import TrainingData, load_training_data
from archlab.training.recipe import Recipe
from archlab.training.record import best_val_key, summary_metrics, write_epoch_plot, write_metrics, write_skipped
from archlab.tuning.tuned import tuned_arch_params

log = logging.getLogger(__name__)


def require_validation_passed(report: Path) -> None:
    """Refuse to train on data the validate stage did not pass."""
    if not report.is_file():
        raise ValidationFailed(f"{report}: no validation report; run the validate stage first")
    if not json.loads(report.read_text()).get("success"):
        raise ValidationFailed(f"{report}: the data failed validation; fix it and re-run `dvc repro`")


def git_commit(root: Path) -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 else "unknown"


def keyed_name(name: str, *parts) -> str:
    """`<name>-<hash of parts>` (JSON values): one folder per config, so a re-run of the same config finds its own
    (and resumes) while a changed one starts fresh. Serves training checkpoints and tuning studies."""
    key = json.dumps([name, *parts], sort_keys=True)
    return f"{name}-{hashlib.blake2b(key.encode(), digest_size=6).hexdigest()}"


def checkpoint_dir(root: Path, name: str, arch_params, data: TrainingData, seed: int) -> Path:
    """Per-config checkpoint folder: a re-run with the same params and data resumes, a changed one starts fresh."""
    return root / keyed_name(name, arch_params.model_dump(mode="json"), data.dataset_hash, seed)


def train(params: Params, name: str, *, data_dir: Path, validation_report: Path, model_dir: Path,
          metrics_path: Path, plots_path: Path, checkpoint_root: Path, project_root: Path = Path("."),
          features_dir: Path | None = None, tuned_path: Path | None = None) -> dict:
    """Train architecture `name` on the ingested train/val splits, once per seed of `train.seeds`, and record all.

    The first seed's model is models/<name>/ itself; each further seed's is models/<name>/seeds/<seed>/, with its
    own MLflow run (tagged `archlab.seed`). Evaluate scores them all.

    Args:
        tuned_path: tune@<name>'s output; its values override `train.<name>` (none or empty: params.yaml as is).

    Returns:
        The summary metrics also written to `metrics_path` (the first seed's, plus the spread over seeds).
    """
    require_validation_passed(validation_report)
    arch = get(name)
    arch_params = tuned_arch_params(params, name, tuned_path)  # train.<name>, with tune@<name>'s choices if any
    task = tasks.get(params.task)
    reason = task.skip_reason(arch)
    if reason is not None:
        return write_skipped(name, arch.family, params.task, reason, model_dir=model_dir, metrics_path=metrics_path,
                             plots_path=plots_path)
    data = load_training_data(data_dir)
    reason = size_skip_reason(name, arch_params, len(data.y_train))
    if reason is not None:
        return write_skipped(name, arch.family, params.task, reason, model_dir=model_dir, metrics_path=metrics_path,
                             plots_path=plots_path)
    seeds = params.train.seed_list(params.project.seed)
    job = SeedJob(params, name, arch, arch_params, task, data, project_root, features_dir)
    with store.building(model_dir) as tmp:
        runs = train_seeds(job, seeds, tmp, checkpoint_root)
    metrics = runs[0].metrics | seed_spread(seeds, [run.metrics for run in runs], job.val_metric)
    write_metrics(metrics_path, metrics)
    write_epoch_plot(plots_path, runs[0].history)
    for run in runs:
        shutil.rmtree(run.checkpoints, ignore_errors=True)
    return metrics


def train_seeds(job: SeedJob, seeds: list[int], folder: Path, checkpoint_root: Path) -> list[SeedRun]:
    """Train every seed into `folder` (the first seed's model at its top, listing the others: modelio.seed_folders;
    each other seed's in seeds/<seed>/), in the seeds' order.

    Two or more seeds train side by side on this machine's cores (`archlab.compare.executor`, one CPU each): on
    2 cores about 1.4x the throughput of one at a time. They stay on this machine even when RAY_ADDRESS names a
    cluster (their model files and MLflow runs are written here). They run one after another in this process on a
    GPU machine (one training already fills the GPU) and for the classical entries (a fit of seconds: starting Ray
    and its workers would cost more than it saves). A seed's own checkpoints let a killed stage resume it.
    """
    items = [{"key": str(seed), "seed": seed,
              "folder": str((folder if i == 0 else folder / modelio.SEEDS_DIR / str(seed)).resolve()),
              "extra_info": {"other_seeds": seeds[1:]} if i == 0 and len(seeds) > 1 else {}}
             for i, seed in enumerate(seeds)]
    if len(items) == 1 or job.arch.family == "classical" or _has_gpu():
        runs = [job.train(item["seed"], Path(item["folder"]), checkpoint_root, item["extra_info"]) for item in items]
    else:
        import tempfile

        from archlab.compare.executor import run_jobs

        shared = {"job": job, "checkpoint_root": str(checkpoint_root.resolve()), "cwd": str(Path.cwd()),
                  "env": {k: v for k, v in os.environ.items() if k.startswith(("ARCHLAB_", "MLFLOW_", "DVC_"))}
                  | {"ARCHLAB_PIPELINE_RUN_ID": tracking.pipeline_run_id()}}  # a Ray worker's parent is not dvc
        with tempfile.TemporaryDirectory(prefix=f"archlab-seeds-{job.name}-") as done:
            results = run_jobs(train_seed, shared, items, done_dir=Path(done), cpus=1.0, gpus=0.0,
                               label=f"train@{job.name} seeds", local=True)
        runs = [SeedRun(r["metrics"], r["history"], Path(r["checkpoints"])) for r in results]
    for seed, run in zip(seeds, runs, strict=True):
        key = best_val_key(job.val_metric)
        log.info("%s (seed %d): %s %.4f after %d epochs in %.1f s (%d parameters)", job.name, seed, key,
                 run.metrics[key], run.metrics["epochs_run"], run.metrics["train_seconds"], run.metrics["param_count"])
    return runs


def train_seed(shared: dict, item: dict) -> dict:
    """One seed's training as a Ray task of `train_seeds`: in the stage's folder and with its tracking settings
    and pipeline id (a Ray worker inherits neither for sure); returns JSON values."""
    from archlab.compare.executor import ray_node_id

    os.chdir(shared["cwd"])  # the MLflow store and the project's relative paths, as the stage sees them
    os.environ.update(shared["env"])
    run = shared["job"].train(item["seed"], Path(item["folder"]), Path(shared["checkpoint_root"]), item["extra_info"],
                              tags={"archlab.ray_node_id": ray_node_id() or ""})
    return json.loads(json.dumps({"metrics": run.metrics, "history": run.history, "checkpoints": str(run.checkpoints)},
                                 default=float))


def _has_gpu() -> bool:
    """Whether this machine has a GPU (nvidia-smi answers), without importing a deep-learning framework here."""
    nvidia_smi = shutil.which("nvidia-smi")
    if nvidia_smi is None:
        return False
    try:
        found = subprocess.run([nvidia_smi, "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return found.returncode == 0 and "GPU" in found.stdout


def seed_spread(seeds: list[int], per_seed: list[dict], val_metric) -> dict:
    """metrics/train/<arch>.json's view of the seeds: the best val score's mean and standard deviation (none for
    one seed). The test score's spread is evaluate's."""
    if len(seeds) < 2:
        return {}
    key = best_val_key(val_metric)
    values = [m[key] for m in per_seed]
    return {"seeds": len(seeds), f"{key}_mean": round(statistics.fmean(values), 6),
            f"{key}_std": round(statistics.stdev(values), 6)}


@dataclass
class SeedRun:
    """What one seed's training left: its summary metrics, epoch history and checkpoint folder."""

    metrics: dict
    history: list[dict]
    checkpoints: Path


@dataclass
class SeedJob:
    """One architecture's training on one dataset, run once per seed (`train`)."""

    params: Params
    name: str
    arch: Architecture
    arch_params: object
    task: object
    data: TrainingData
    project_root: Path
    features_dir: Path | None

    @property
    def val_metric(self):
        """The val score this architecture's fit reports: the one of the task it is fitted for (a borrowed image
        classifier in text to image reports val accuracy, a generator val MAE)."""
        return tasks.get(self.task.fitted_for(self.arch)).val_metric

    def train(self, seed: int, folder: Path, checkpoint_root: Path, extra_info: dict | None = None,
              tags: dict[str, str] | None = None) -> SeedRun:
        """Train with `seed` into `folder` (model, info.json with `extra_info`, history.csv) under its own MLflow
        run (with `tags` besides archlab's own: the Ray node of a seed trained side by side)."""
        name, data = self.name, self.data
        folder.mkdir(parents=True, exist_ok=True)
        tags = (tags or {}) | {
            "archlab.architecture": name, "archlab.family": self.arch.family, "archlab.stage": "train",
            "archlab.task": self.params.task, "archlab.seed": str(seed),
            "archlab.git_commit": git_commit(self.project_root), "archlab.data_hash": data.dataset_hash,
            "archlab.reference": str(self.arch.reference).lower()}
        recipe = Recipe(name, self.arch_params, self.task, seed)
        # The MLflow worker starts first: it imports MLflow and starts the run while this process imports TensorFlow.
        with tracking_worker.run(self.params, run_name=name, tags=tags, project_root=self.project_root) as mlflow_run:
            device_info = recipe.prepare()
            mlflow_run.set_tags({"archlab.device": device_info["device"], "archlab.backend": device_info["backend"],
                                 "archlab.precision": device_info["precision"]})
            self.log_inputs(mlflow_run, seed)
            run_id = mlflow_run.run_id  # a store that cannot be reached stops the stage here, before training
            checkpoints = checkpoint_dir(checkpoint_root, name, self.arch_params, data, seed)
            started = time.perf_counter()
            fitted = recipe.fit(data, checkpoint_dir=checkpoints, artifact_dir=folder / "figures",
                                features_dir=self.features_dir, on_epoch=mlflow_run.log_epoch)
            trained = fitted.trained
            metrics = summary_metrics(trained, time.perf_counter() - started, self.val_metric)
            if fitted.balanced.method != "none":
                trained.info["class_balance"] = fitted.balanced.record(data.class_names)
                metrics |= {f"synthetic_{data.class_names[c]}": float(n) for c, n in fitted.balanced.synthetic.items()}
                figure = sample_figure(fitted.balanced, data.class_names, folder / "figures" / "synthetic_samples.png")
                trained.figures += [figure] if figure else []
            if trained.tags:
                mlflow_run.set_tags(trained.tags)
            info = {"seed": seed, "run_id": run_id, "train_seconds": metrics["train_seconds"],
                    "param_count": metrics["param_count"],
                    "pipeline_run_id": mlflow_run.tags["archlab.pipeline_run_id"], **device_info}
            self.save(mlflow_run, trained, folder, info, metrics, extra_info or {})
        # The benchmark's MLflow cost: what this process waited for it, and what the worker spent in all.
        metrics["mlflow_seconds"] = round(mlflow_run.waited_s, 3)
        metrics["mlflow_worker_seconds"] = round(mlflow_run.worker_seconds, 3)
        return SeedRun(metrics, trained.history, checkpoints)

    def log_inputs(self, mlflow_run, seed: int) -> None:
        """The run's params, its datasets (train, val, cached features) and the data profile a retrain's drift
        gate compares new data with."""
        data = self.data
        mlflow_run.log_params({"architecture": self.name, "family": self.arch.family, "seed": seed,
                               "n_train": len(data.y_train), "n_val": len(data.y_val),
                               **tracking.flatten_params(self.arch_params.model_dump(mode="json"))})
        for split, context in (("train", "training"), ("val", "validation")):
            mlflow_run.log_dataset(data.manifest[data.manifest["split"] == split], source=data.source,
                                   name=f"ingested-{split}", digest=data.dataset_hash, context=context)
        data_profile = self.task.training_profile(data)
        if data_profile is not None:
            mlflow_run.log_dict(data_profile, DATA_PROFILE)
        if self.features_dir is not None:
            meta = json.loads((self.features_dir / "meta.json").read_text())
            mlflow_run.log_dataset(data.manifest[data.manifest["split"] != "test"], source=str(self.features_dir),
                                   name=f"features-{meta['backbone']}", digest=meta["weights_sha256"][:16],
                                   context="features")

    def save(self, mlflow_run, trained, folder: Path, run_info: dict, metrics: dict, extra_info: dict) -> None:
        """The model, its companions, info.json and history.csv into `folder`; metrics, figures and the pyfunc
        model into the MLflow run (info.json gets the model's URI last)."""
        data, fitted_for = self.data, self.task.fitted_for(self.arch)
        model_path = modelio.save(trained.model, trained.kind, folder)
        for companion, model in trained.companions.items():
            model.save(folder / f"{companion}.keras")
        info = {"architecture": self.name, "family": self.arch.family, "reference": self.arch.reference,
                "task": self.params.task,
                "fitted_for": fitted_for, "kind": trained.kind, "model_file": model_path.name,
                "class_names": data.class_names, "input_shape": list(data.input_shape), "data_hash": data.dataset_hash,
                **run_info, **self.task.model_info(data, fitted_for, run_info["seed"]), **trained.info, **extra_info}
        modelio.write_info(folder, info)
        write_epoch_plot(folder / "history.csv", trained.history)  # travels with the model (evaluate's input)
        mlflow_run.log_metrics(metrics)
        mlflow_run.log_artifacts(trained.figures, "figures")
        example = self.task.pyfunc_example(data, info)
        # The signature's output is the saved file's answer to the example, whatever the task returns: the one
        # check that the model serves (the file loads and answers), so MLflow's own is skipped.
        output = self.task.output_frame(modelio.load(model_path), example, info)
        info["model_uri"] = mlflow_run.log_pyfunc_model(model_path, folder / modelio.INFO, example, output)
        modelio.write_info(folder, info)
