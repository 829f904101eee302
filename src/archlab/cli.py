"""`archlab <verb>`: the command line for people (plain text) and scripts (`--json`).

Exit codes: 0 success (for `retrain`: promoted, kept, or nothing to do); 1 the pipeline failed (`retrain`); 2 bad
params, data or arguments; 3 invalid data (unreadable, or the validation suite failed); 4 data drift above the hard
limit (`retrain`: nothing trained, a person reviews); 5 the MLflow tracking server does not answer; 75 another
`retrain` holds the lock; 130 interrupted.
Heavy libraries (TensorFlow, MLflow, Great Expectations) are imported inside the verbs that need them, so
`archlab --help` stays fast.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

from archlab.errors import ArchlabError, ParamsError

app = typer.Typer(help="archlab: which deep-learning architecture works best on my data?", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)
PARAMS = typer.Option(Path("params.yaml"), "--params", help="params file")
JSON = typer.Option(False, "--json", help="machine-readable output")


_VERBOSE = {"on": False}  # set by --verbose, before any verb runs


@app.callback()
def _options(verbose: bool = typer.Option(False, "--verbose", help="also show the libraries' own output "
                                          "(TensorFlow start-up notes, CUDA probes, library warnings)")) -> None:
    from archlab import quiet

    _VERBOSE["on"] = verbose
    if not verbose:
        quiet.libraries()


def _fail(exc: ArchlabError) -> None:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(exc.exit_code)


def _exec_mlflow(*args: str) -> None:
    """Replace this process with MLflow's command line: the `mlflow` installed beside this Python (the venv's bin,
    so `.venv/bin/archlab ui` works without an activated venv), else the one on PATH."""
    import shutil
    import sys

    beside = Path(sys.executable).parent / "mlflow"
    tool = str(beside) if beside.is_file() else shutil.which("mlflow")
    if tool is None:
        _fail(ArchlabError(f"mlflow: not installed beside {sys.executable} nor on PATH; install archlab's stack "
                           "(`make setup`) into this environment"))
    os.execv(tool, [tool, *args])


def _load(params_path: Path):
    from archlab.params import load_params

    try:
        return load_params(params_path)
    except ArchlabError as exc:
        _fail(exc)


@app.command()
def summary(root: Path = typer.Option(Path("."), help="project root"), as_json: bool = JSON) -> None:
    """Print what the pipeline produced (dataset, validation, leaderboard, champion)."""
    from archlab.summary import summary_lines

    lines = summary_lines(root)
    typer.echo(json.dumps({"summary": lines}) if as_json else "\n".join(lines))


@app.command()
def init(data: Path = typer.Argument(None, help="a folder of class sub-folders (images) or a .csv file (a table, "
                                                "or a series: one date column and one numeric column)"),
         task: str = typer.Option(None, "--task", help="tabular_classification | forecasting, when the guess is "
                                                       "wrong (CSV files)"),
         label: str = typer.Option(None, "--label", help="tables: the class column (ingest.label_column)"),
         id_column: str = typer.Option(None, "--id", help="tables: the sample-id column (ingest.id_column)"),
         date: str = typer.Option(None, "--date", help="tables: split by this date (ingest.split_by: time); "
                                                       "series: the date column"),
         value: str = typer.Option(None, "--value", help="series: the value column (ingest.value_column)"),
         architectures: str = typer.Option("", "--architectures", help="comma-separated: limit the zoo "
                                                                      "(quick looks, tests)"),
         force: bool = typer.Option(False, "--force", help="replace an existing params.yaml"),
         project: Path = typer.Option(None, "--project", help="write a new project folder (pipeline, git, DVC) "
                                                              "instead of this folder's params.yaml"),
         complete: bool = typer.Option(False, "--complete", help="no DATA: add to ./params.yaml every key dvc.yaml "
                                                                 "reads that it lacks (an upgrade), like "
                                                                 "`check-params --complete`")) -> None:
    """Look at DATA and write a params.yaml that runs (`dvc repro` next): the task, the values chosen from the
    data (each commented with its reason) and every other key with its default."""
    from archlab.tasks import init_project

    if complete:
        check_params(Path("params.yaml"), as_json=False, complete=True)
        return
    if data is None:
        _fail(ParamsError("archlab init: give DATA (a folder of class sub-folders, or a .csv file), or --complete "
                          "to upgrade ./params.yaml"))

    target = (project or Path.cwd()) / "params.yaml"
    if target.exists() and not force:
        _fail(ParamsError(f"{target} exists; `--force` replaces it (or `--project DIR` starts a new project)"))
    try:
        plan = init_project.inspect(data.resolve(), task=task, label=label, id_column=id_column, date=date,
                                    value=value)
        if project is not None:
            init_project.new_project(project)
        added = init_project.write_params(plan, target, architectures=[a for a in architectures.split(",") if a])
    except ArchlabError as exc:
        _fail(exc)
    typer.echo(f"{target}: {plan.task}")
    for key, value_ in plan.values.items():
        typer.echo(f"  {key}: {value_}  ({plan.reasons[key]})")
    for warning in plan.warnings:
        typer.echo(f"  note: {warning}")
    if added:
        typer.echo(f"  from the defaults: {', '.join(added)}")
    typer.echo(f"next: {'cd ' + str(project) + ' && ' if project else ''}dvc repro")


@app.command("check-params")
def check_params(params: Path = typer.Argument(Path("params.yaml"), help="params file to check"),
                 as_json: bool = typer.Option(False, "--json", help="print the resolved params as JSON"),
                 complete: bool = typer.Option(False, "--complete", help="write every key dvc.yaml reads that the "
                                               "file lacks, with the schema's default (comments and values kept): "
                                               "upgrades a params.yaml written for an older release")) -> None:
    """Validate a params file against the schema and against the keys the dvc.yaml beside it reads (DVC resolves
    those before archlab runs, so a default cannot stand in for them); print every problem with its key path."""
    from archlab import params_keys

    resolved = _load(params)
    dvc_yaml = params.parent / "dvc.yaml"
    if dvc_yaml.is_file():
        import yaml

        if complete:
            added = params_keys.complete(params, dvc_yaml)
            typer.echo(f"{params}: added {', '.join(added)} (schema defaults)" if added else
                       f"{params}: nothing missing")
            resolved = _load(params)
        missing = params_keys.missing_keys(dvc_yaml, yaml.safe_load(params.read_text(encoding="utf-8")) or {})
        if missing:
            _fail(ParamsError(f"{params}: lacks {', '.join(missing)}, which {dvc_yaml} reads before archlab runs "
                              f"(dvc repro would stop on them); `archlab check-params {params} --complete` writes "
                              "them with the schema's defaults"))
    typer.echo(resolved.model_dump_json(by_alias=True, indent=2) if as_json else f"{params}: ok")


@app.command()
def leaderboard(metrics: Path = typer.Option(Path("metrics/evaluate.json"), help="evaluate stage's metrics"),
                from_mlflow: bool = typer.Option(False, "--from-mlflow", help="read the latest evaluation run"),
                params: Path = PARAMS, as_json: bool = JSON) -> None:
    """Show the test-set leaderboard, best first."""
    from archlab.leaderboard_view import from_metrics_file, from_mlflow_runs, render

    try:
        loaded = _load(params)
        rows = from_mlflow_runs(loaded) if from_mlflow else from_metrics_file(metrics, loaded.task)
    except ArchlabError as exc:
        _fail(exc)
    typer.echo(json.dumps(rows, indent=2) if as_json else render(rows, loaded.task))


@app.command()
def predict(inputs: list[Path] = typer.Argument(..., help="image files or .npy arrays (N, H, W, C), pixels 0..255; "
                                                          "tables: .csv rows (or .npy); forecasters: .npy/.csv "
                                                          "windows; text-to-image: .txt captions, one a line"),
            model: str = typer.Option("", "--model", help="architecture name (models/<name>), a model file, or a "
                                                          "models:/ URI; default models:/<project>@champion"),
            trust_pickle: bool = typer.Option(False, "--trust-pickle",
                                              help="allow pickle/joblib model files (they can run code)"),
            params: Path = PARAMS, as_json: bool = JSON) -> None:
    """Predict with a trained or registered model: classes of images or table rows, forecasts of windows, images
    of captions (the model's task reads the inputs and shapes the answer)."""
    from archlab import predict as prediction
    from archlab import quiet

    try:
        with quiet.native_stderr(enabled=not _VERBOSE["on"], reported=(ArchlabError, typer.Exit)):
            if not model or model.startswith("models:/"):
                from archlab import tracking

                loaded = _load(params)
                tracking.configure(loaded)
                champion = f"models:/{loaded.project.name}@champion"
                frame, task = prediction.predict_registered(model or champion, inputs)
            else:
                local = Path(model) if Path(model).exists() else Path("models") / model
                frame, task = prediction.predict_local(local, inputs, trust_pickle=trust_pickle)
    except ArchlabError as exc:
        _fail(exc)
    typer.echo(frame.to_json(orient="records") if as_json else "\n".join(task.render_predictions(frame)))


@app.command()
def promote(version: str = typer.Argument(..., help="version of the project's registered model to serve"),
            params: Path = PARAMS) -> None:
    """Make a registered version @champion by hand (it must load and predict; the old one becomes @previous)."""
    from archlab import promotion, tasks, tracking
    from archlab.data.store import read_dataset
    from archlab.promotion_lock import promotion_lock

    loaded = _load(params)
    try:
        tracking.configure(loaded)
        evaluation_path = Path("metrics/evaluate.json")
        evaluation = json.loads(evaluation_path.read_text()) if evaluation_path.is_file() else {}
        scorer = tasks.part(loaded.task, "register").scorer(tasks.get(loaded.task), read_dataset("data/ingested"),
                                                             Path("models"), evaluation)
        with promotion_lock(loaded.project.name, tracking.store_root()):
            score = promotion.force_promote(loaded.project.name, version, scorer, loaded.task_metric)
    except ArchlabError as exc:
        _fail(exc)
    typer.echo(f"{loaded.project.name}@champion -> version {version} ({loaded.task_metric.name} {score:.4f})")


@app.command()
def rollback(params: Path = PARAMS) -> None:
    """Point @champion back at @previous (and @previous at the replaced champion)."""
    from archlab import promotion, tracking
    from archlab.promotion_lock import promotion_lock

    loaded = _load(params)
    try:
        tracking.configure(loaded)
        with promotion_lock(loaded.project.name, tracking.store_root()):
            champion, previous = promotion.rollback(loaded.project.name)
    except ArchlabError as exc:
        _fail(exc)
    typer.echo(f"{loaded.project.name}@champion -> version {champion} (@previous -> version {previous})")


@app.command()
def ui(port: int = typer.Option(5000, help="port"), host: str = typer.Option("127.0.0.1", help="bind address; "
       "anything but 127.0.0.1 exposes the store to the network"), params: Path = PARAMS) -> None:
    """Start the MLflow UI on the project's tracking store (bound to 127.0.0.1 unless told otherwise)."""
    from archlab import tasks
    from archlab.tracking import resolve_tracking_uri
    from archlab.tracking.ui_link import training_runs_link
    from archlab.training.record import best_val_key

    loaded = _load(params)
    uri = resolve_tracking_uri(loaded)
    typer.echo(f"MLflow UI for {uri} at http://{host}:{port}")
    metric = tasks.get(loaded.task).val_metric  # what every train@ run logs as its best validation score
    link = training_runs_link(loaded, uri, best_val_key(metric), metric.higher_is_better)
    if link:
        typer.echo(f"training runs: http://{host}:{port}/{link}")
    _exec_mlflow("ui", "--backend-store-uri", uri, "--host", host, "--port", str(port))


@app.command()
def serve(port: int = typer.Option(5001, help="port"), host: str = typer.Option("127.0.0.1", help="bind address; "
          "anything but 127.0.0.1 exposes the model to the network"),
          alias: str = typer.Option("champion", help="registry alias to serve"), params: Path = PARAMS) -> None:
    """Serve models:/<project>@champion over HTTP (`POST /invocations`), bound to 127.0.0.1 unless told otherwise."""
    from archlab.tracking import resolve_tracking_uri

    loaded = _load(params)
    uri = resolve_tracking_uri(loaded)
    model = f"models:/{loaded.project.name}@{alias}"
    typer.echo(f"serving {model} from {uri} at http://{host}:{port}/invocations")
    os.environ["MLFLOW_TRACKING_URI"] = uri
    _exec_mlflow("models", "serve", "-m", model, "--env-manager", "local", "--host", host, "--port", str(port))


@app.command()
def retrain(params: Path = PARAMS,
            dry_run: bool = typer.Option(False, "--dry-run", help="ingest, validate and measure drift, list the "
                                                                  "stages that would run; train nothing"),
            accept_drift: bool = typer.Option(False, "--accept-drift", help="a person reviewed the drifted data: "
                                                                            "retrain anyway"),
            write_back: bool = typer.Option(False, "--write-back", help="commit dvc.lock, params, metrics and the "
                                                                          "report to branch retrain/<job> and git "
                                                                          "push it when anything changed (needs a "
                                                                          "DVC remote)"),
            commit_to_current: bool = typer.Option(False, "--commit-to-current", help="with --write-back: commit on "
                                                                                      "the current branch instead"),
            as_json: bool = JSON) -> None:
    """The scheduled job: re-ingest, gate on validation and drift, `dvc repro`, promote only a better model.

    Writes reports/retrain/<timestamp>.json and .md and logs them to MLflow. Exit codes: 0 promoted, kept or
    nothing to do; 1 pipeline failed; 2 bad params; 3 invalid data; 4 drift above the hard limit; 5 tracking
    server unreachable; 75 another retrain is running; 130 stopped by a signal.
    """
    from archlab import interrupts, stagekit
    from archlab.retrain import job, report

    stagekit.setup_logging()
    interrupts.install()  # a scheduler's stop unwinds: runs end KILLED, report written
    loaded = _load(params)
    try:
        result = job.run_job(loaded, root=Path.cwd(), dry_run=dry_run, accept_drift=accept_drift,
                             write_back=write_back or commit_to_current, commit_to_current=commit_to_current)
    except ArchlabError as exc:
        _fail(exc)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise typer.Exit(130) from None
    typer.echo(json.dumps(result, indent=2) if as_json else report.markdown(result))


@app.command()
def repro(jobs: int = typer.Option(os.cpu_count() or 1, "--jobs", "-j",
                                   help="stages at once (default: this machine's cores)")) -> None:
    """`dvc repro` with stages that do not depend on each other side by side (archlab.parallel_repro); `make run`
    uses it. The same stages run, and the same dvc.lock results, as with `dvc repro`."""
    from archlab import parallel_repro

    try:
        runs = parallel_repro.reproduce(Path.cwd(), jobs, echo=typer.echo)
    except ArchlabError as exc:
        _fail(exc)
    ran = [r.name for r in runs if r.ran]
    typer.echo(f"{len(ran)} of {len(runs)} stages ran, up to {jobs} at a time" if ran else
               "Data and pipelines are up to date.")


remote_app = typer.Typer(help="the project's DVC remote: stage outputs and the run cache, for fresh machines",
                         no_args_is_help=True)
app.add_typer(remote_app, name="remote")


@remote_app.command("add")
def remote_add(url: str = typer.Argument(..., help="a folder (local or network path) or s3://bucket/prefix"),
               name: str = typer.Option("archlab", "--name", help="the remote's name in .dvc/config")) -> None:
    """Make URL the project's default DVC remote (written to .dvc/config: commit it)."""
    from archlab import dvc_state

    try:
        stored = dvc_state.add_remote(Path.cwd(), url, name)
    except ArchlabError as exc:
        _fail(exc)
    typer.echo(f"default DVC remote {name} -> {stored}; `archlab remote push` after `dvc repro` "
               "(make run and archlab retrain do it), `dvc pull --run-cache` on a fresh clone")


@remote_app.command("push")
def remote_push() -> None:
    """`dvc push --run-cache` to the default remote; says so and succeeds when none is configured."""
    from archlab import dvc_state

    try:
        result = dvc_state.push(Path.cwd())
    except ArchlabError as exc:
        _fail(exc)
    typer.echo(f"pushed to DVC remote {result['remote']}: {result['summary']}" if result["pushed"] else
               "no DVC remote configured: nothing pushed (archlab remote add PATH|s3://bucket/prefix)")


@remote_app.command("pull")
def remote_pull() -> None:
    """A fresh clone's state: `dvc pull --run-cache`, and DVC imports missing here fetched from their source."""
    from archlab import dvc_state

    try:
        result = dvc_state.pull(Path.cwd())
    except ArchlabError as exc:
        _fail(exc)
    if result["remote"] is None:
        typer.echo("no DVC remote configured: nothing pulled (archlab remote add PATH|s3://bucket/prefix)")
    else:
        typer.echo(f"pulled from DVC remote {result['remote']}" + ("" if result["complete"] else
                   " (some outputs were not there: dvc repro runs those stages)"))
    for item in result["imports"]:
        typer.echo(f"{item['file']}: fetched from its source" + (" (newer than recorded)" if item["changed"] else ""))


@app.command("simulate-arrivals")
def simulate_arrivals(folder: Path = typer.Argument(..., help="image folder that ingest.path points at"),
                      batch: int = typer.Option(..., "--batch", help="which batch to write, 1-based"),
                      batches: int = typer.Option(4, "--batches", help="how many batches the digits are cut into"),
                      limit: int = typer.Option(0, "--limit", help="use only the first N digits (0: all 1,797)"),
                      drift: str = typer.Option("none", "--drift", help="none | invert | noise"),
                      seed: int = typer.Option(0, "--seed", help="noise seed")) -> None:
    """Write the next time-ordered batch of the digits data as PNG files (the retraining demo's new data)."""
    from archlab.simulation import write_batch

    if drift not in ("none", "invert", "noise"):
        _fail(ArchlabError(f"--drift must be none, invert or noise (received {drift!r})"))
    try:
        written = write_batch(folder, batch=batch, batches=batches, limit=limit or None, drift=drift, seed=seed)
    except ArchlabError as exc:
        _fail(exc)
    typer.echo(f"batch {batch}/{batches}{'' if drift == 'none' else f' ({drift})'}: {len(written)} images "
               f"written under {folder}")


if __name__ == "__main__":
    app()
