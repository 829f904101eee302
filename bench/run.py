"""`make bench`: archlab against bare Keras, the pipeline cold and warm, scaling, MLflow cost, start-up, inference.

Usage: python -m bench.run [--quick] [--sections overhead,pipeline,...] [--out reports] [--workdir DIR]
Writes <out>/bench.json, <out>/bench.md and <out>/bench_gpu.md. `--quick` runs every section at toy size (the
test suite uses it); its figures say nothing about speed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import yaml

from bench import (
    compare,
    evidence,
    imbalance,
    machine,
    pipeline,
    report,
    scaling,
    sequence_speed,
    training,
    tuning,
    workspace,
)
from bench.measure import ROOT, alternated, measure, median

SECTIONS = ("overhead", "inference", "pipeline", "scaling", "startup", "gpu", "tuning", "imbalance",
            "sequence_speed", "compare")
FULL = {"archs": ["cnn", "lstm", "transformer"], "epochs": 15, "repeats": 3, "noop_repeats": 3,
        "sizes": [1797, 18000, 60000], "size_repeats": {1797: 3, 18000: 1, 60000: 1}, "inference_images": 1000,
        "param_values": [0.31],
        "gpu_args": ["--images", "3000", "--epochs", "3"], "pipeline_params": None, "param": ("cnn", "dropout"),
        # every architecture of params.yaml's train.architectures (feature heads are not tuned)
        "tuning": {"archs": None, "trials": 10, "max_epochs": 30, "grace_epochs": 3, "seeds": [42, 43, 44]},
        # the class_balance comparison the imbalance claim needs (params.yaml's epochs); sequence lengths for speed
        "imbalance": {"archs": ["baseline", "cnn"], "train": {}},
        "sequence": {"lengths": [16, 64, 256, 1024], "samples": 256, "width": 16, "batch_size": 32, "epochs": 3},
        # every architecture of params.yaml's train.architectures (the references included), 5 folds x 2 repeats
        "compare": {"archs": None, "folds": 5, "repeats": 2}}
QUICK = {"archs": ["cnn"], "epochs": 1, "repeats": 1, "noop_repeats": 1, "sizes": [200, 400],
         "size_repeats": {200: 1, 400: 1}, "inference_images": 20, "param": ("baseline", "C"), "param_values": [0.5],
         "gpu_args": ["--images", "256", "--epochs", "2", "--archs", "shallow_mlp"],
         "pipeline_params": {"train": {"architectures": ["baseline"], "feature_heads": []},
                             "featurize": {"backbones": []},
                             "evaluate": {"bootstrap_resamples": 100, "latency_calls": 5}},
         "tuning": {"archs": ["shallow_mlp"], "trials": 2, "max_epochs": 2, "grace_epochs": 1,
                    "seeds": [1, 2], "train": {"shallow_mlp": {"epochs": 2, "hidden_units": 16}}},
         "imbalance": {"archs": ["baseline"], "train": {"baseline": {"rbm_epochs": 20}},
                       "methods": ["none", "rbm_oversample"]},
         "sequence": {"lengths": [8, 16], "samples": 32, "width": 4, "batch_size": 16, "epochs": 2},
         "compare": {"archs": ["baseline", "knn"], "folds": 2, "repeats": 1, "evaluate": {"learning_curve": []}}}
SCALING_PARAMS = """\
task: image_classification
project: {name: scaling, seed: 42}
ingest: {source: npz, path: "@NPZ@", chunk_size: 2048}
validate: {min_per_class: 2, max_imbalance_ratio: 3.0}
featurize: {backbones: [vgg16], input_size: 32, pooling: avg, batch_size: 256, vgg16: {weights: hed-bsds500}}
"""


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merge(base.get(key, {}), value) if isinstance(value, dict) else value
    return out


def default_params() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def training_params(config: dict) -> str:
    """The default params, with each compared architecture held to exactly `epochs` epochs (patience as long)."""
    params = default_params()
    for arch in config["archs"]:
        params["train"][arch].update(epochs=config["epochs"], patience=config["epochs"])
    params["train"].update(architectures=config["archs"], feature_heads=[])
    params["featurize"]["backbones"] = []
    return yaml.safe_dump(params, sort_keys=False)


def run_training(config: dict, workdir: Path, sections: set[str]) -> dict:
    ws = workspace.make(workdir / "training", training_params(config))
    workspace.git_dvc([str(Path(sys.executable).parent / "dvc"), "repro", "validate"], ws)
    out = {}
    if "overhead" in sections or "inference" in sections:
        out["overhead"] = training.overhead(ws, config["archs"], config["repeats"])
    if "inference" in sections:
        out["inference"] = training.inference(ws, config["archs"][0], config["inference_images"], config["repeats"])
    return out


def run_pipeline(config: dict, workdir: Path) -> dict:
    params = default_params()
    if config["pipeline_params"]:
        params = _merge(params, config["pipeline_params"])
    ws = workspace.make(workdir / "pipeline", yaml.safe_dump(params, sort_keys=False))
    arch, key = config["param"]
    return {"cold": pipeline.cold(ws), "noop": pipeline.noop(ws, config["noop_repeats"]),
            "one_param": pipeline.one_param(ws, arch, key, config["param_values"]),
            "register": pipeline.register_cost(ws, params["project"]["name"], config["repeats"])}


def run_tuning(config: dict, workdir: Path, args) -> dict:
    """Defaults vs tuned, every architecture with the same budget (bench.tuning); flags override the budget."""
    budget = dict(config["tuning"])
    params = default_params()
    budget["archs"] = args.tune_archs.split(",") if args.tune_archs else (budget["archs"]
                                                                          or params["train"]["architectures"])
    for flag, key in ((args.tune_trials, "trials"), (args.tune_epochs, "max_epochs")):
        if flag is not None:
            budget[key] = flag
    if args.seeds:
        budget["seeds"] = [int(s) for s in args.seeds.split(",")]
    if config["pipeline_params"]:
        params = _merge(params, {k: v for k, v in config["pipeline_params"].items() if k != "train"})
    params["evaluate"]["learning_curve"] = []  # the section reads test scores only: its two repros skip the curve
    ws = workspace.make(workdir / "tuning", yaml.safe_dump(params, sort_keys=False))
    return tuning.compare(ws, budget)


def run_compare(config: dict, workdir: Path) -> dict:
    """Every architecture cross-validated by the real pipeline, then the cv and learning-curve stages one at a time."""
    params = default_params()
    if config["pipeline_params"]:
        params = _merge(params, {k: v for k, v in config["pipeline_params"].items() if k != "train"})
        params["train"].update(feature_heads=[])
    ws = workspace.make(workdir / "compare", yaml.safe_dump(params, sort_keys=False))
    return compare.compare(ws, config["compare"])


def run_startup(repeats: int) -> dict:
    archlab = str(Path(sys.executable).parent / "archlab")
    runs = alternated({"help": lambda: measure([archlab, "--help"], ROOT).wall_s}, max(repeats, 5))["help"]
    probe = "import sys, archlab.cli; print([m for m in ('tensorflow', 'keras', 'mlflow', 'great_expectations', " \
            "'dvc', 'ray', 'optuna') if m in sys.modules])"
    heavy = measure([sys.executable, "-c", probe], ROOT).stdout.strip()
    return {"help_s": round(median(runs), 3), "samples": [round(v, 3) for v in runs], "heavy_imports": heavy
            if heavy != "[]" else ""}


def run_sequence_speed(config: dict, out: Path, gpu_results: Path | None) -> dict:
    """CPU here; a GPU machine's figures (`python -m bench.sequence_speed --device-name gpu`) when passed."""
    lengths = config["lengths"]
    cpu = sequence_speed.measure_apart(lengths, samples=config["samples"], width=config["width"],
                                       batch_size=config["batch_size"], epochs=config["epochs"])
    failed = cpu.pop("failed", {})
    per_device = {"cpu": cpu}
    note = ("No GPU figures: the `device` tool lent this task no machine (`can_start_another: false`); run "
            "`KERAS_BACKEND=jax python -m bench.sequence_speed --device-name gpu` on one and pass its output with "
            "--sequence-gpu-results.")
    if gpu_results is not None:
        per_device["gpu"], note = json.loads(gpu_results.read_text())["gpu"], ""
    out.mkdir(parents=True, exist_ok=True)
    return {"lengths": lengths, "seconds_per_epoch": per_device, "setup": sequence_speed.describe(config),
            "failed": failed, "gpu_note": note,
            "figure": _shown(sequence_speed.figure(per_device, out / "sequence_speed.png"))}


def _shown(path: str) -> str:
    """A written file's path as the report names it: relative to the project when inside it."""
    return str(Path(path).resolve().relative_to(ROOT)) if Path(path).resolve().is_relative_to(ROOT) else path


def run_gpu(config: dict) -> dict:
    """CPU side here (JAX backend); the GPU side comes from a lent machine (`--gpu-results`), else it says so."""
    sample = measure([sys.executable, "-m", "bench.epoch_times", *config["gpu_args"]], ROOT, KERAS_BACKEND="jax")
    return {"cpu": json.loads(sample.stdout.strip().splitlines()[-1]), "gpu": None,
            "why": "the `device` tool reported `can_start_another: false` for this task, so no GPU figures exist; "
                   "run `KERAS_BACKEND=jax python -m bench.epoch_times` on a GPU machine and pass its output with "
                   "--gpu-results"}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="toy sizes: checks the script, measures nothing useful")
    p.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated subset of {SECTIONS}")
    p.add_argument("--out", type=Path, default=ROOT / "reports")
    p.add_argument("--workdir", type=Path, default=Path("/tmp/archlab-bench"))
    p.add_argument("--gpu-results", type=Path, help="JSON printed by bench.epoch_times on a GPU machine")
    p.add_argument("--sequence-gpu-results", type=Path,
                   help="JSON printed by `python -m bench.sequence_speed --device-name gpu` on a GPU machine")
    p.add_argument("--merge", action="store_true", help="keep the other sections of an existing <out>/bench.json "
                                                        "(re-measure some sections after a fix)")
    p.add_argument("--tune-archs", help="tuning section: comma-separated architectures (default: params.yaml's)")
    p.add_argument("--tune-trials", type=int, help="tuning section: trials per architecture")
    p.add_argument("--tune-epochs", type=int, help="tuning section: most epochs per trial")
    p.add_argument("--seeds", help="tuning section: comma-separated seeds each model trains with")
    args = p.parse_args()
    sections = set(args.sections.split(","))
    unknown = sections - set(SECTIONS)
    if unknown:
        p.error(f"unknown sections {sorted(unknown)}; choose from {SECTIONS}")
    config = QUICK if args.quick else FULL
    started = time.time()
    results: dict = {}
    if sections & {"overhead", "inference"}:
        results.update(run_training(config, args.workdir, sections))
    if "pipeline" in sections:
        results["pipeline"] = run_pipeline(config, args.workdir)
    if "scaling" in sections:
        ws = workspace.make(args.workdir / "scaling", SCALING_PARAMS.replace("@NPZ@", "data/raw"))
        results["scaling"] = scaling.scaling(ws, config["sizes"], SCALING_PARAMS, config["size_repeats"])
    if "startup" in sections:
        results["startup"] = run_startup(config["repeats"])
    if "tuning" in sections:
        results["tuning"] = run_tuning(config, args.workdir, args)
    if "imbalance" in sections:
        params = default_params()
        if config["pipeline_params"]:
            params = _merge(params, {k: v for k, v in config["pipeline_params"].items() if k != "train"})
        ws = workspace.make(args.workdir / "imbalance", yaml.safe_dump(params, sort_keys=False))
        results["imbalance"] = imbalance.compare(ws, config["imbalance"]["archs"], config["imbalance"]["train"],
                                                 tuple(config["imbalance"].get("methods", imbalance.METHODS)))
    if "compare" in sections:
        results["compare"] = run_compare(config, args.workdir)
    if "sequence_speed" in sections:
        results["sequence_speed"] = run_sequence_speed(config["sequence"], args.out, args.sequence_gpu_results)
    if "gpu" in sections:
        results["gpu"] = run_gpu(config)
        if args.gpu_results:
            results["gpu"]["gpu"] = json.loads(args.gpu_results.read_text())
    command = " ".join(["python -m bench.run", *sys.argv[1:]])
    doc = {"command": command, "quick": args.quick,
           "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
           "duration_s": round(time.time() - started, 1), "machine": machine.describe(), "config": config,
           "results": results}
    if args.merge and (args.out / "bench.json").is_file():
        earlier = json.loads((args.out / "bench.json").read_text())
        doc["results"] = {**earlier["results"], **results}
        doc["command"] = f"{earlier['command']} (all sections, started {earlier['started']}); then {command} " \
                         f"(re-measured: {', '.join(sorted(results))})"
    doc["goals"] = report.goals(doc["results"])
    for path in report.write(args.out, doc):
        print(path)  # noqa: T201
    if written := evidence.write_if_project_reports(args.out, args.quick):
        print(written)  # noqa: T201  the claims' benchmark evidence (bench/evidence.py says why a module)


if __name__ == "__main__":
    main()
