"""`archlab retrain`, step by step: lock, re-ingest a candidate, validate it, gate on drift, `dvc repro`, decide.

The candidate dataset is built in a scratch folder first, so bad or drifted data never touches the workspace's
`data/ingested`, `dvc.lock` or the registry. Only data that passes both gates reaches `dvc repro`, whose register
stage re-scores the champion and the new best model on today's test split and moves `@champion` only for a win.
Every outcome past the lock writes a report; none leaves an MLflow run RUNNING.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from archlab import dvc_state, tracking
from archlab import locks as lock
from archlab import model_registry as reg
from archlab.data.profile import DATA_PROFILE, profile
from archlab.data.store import Dataset, read_dataset
from archlab.errors import ArchlabError, DataError, DriftBlocked, InvalidData, TrackingUnavailable
from archlab.params import Params
from archlab.retrain import drift, pipeline, report, writeback

log = logging.getLogger(__name__)

# The pipeline's own paths, as dvc.yaml declares them (tests/test_retrain_units.py checks they agree).
DATA_DIR = Path("data/ingested")
DECISION = Path("reports/register.json")
EVALUATION = Path("metrics/evaluate.json")
SCRATCH = Path(".archlab/retrain")
LEADERBOARD_ROWS = 5


@dataclass
class Job:
    params: Params
    root: Path
    job_id: str
    dry_run: bool
    accept_drift: bool
    write_back: bool = False  # commit and push the state when anything changed (see retrain/writeback.py)
    commit_to_current: bool = False


def pipeline_id(job: Job) -> str:
    """The pipeline run id every stage's MLflow run of this job carries (the UI filters one job's runs by it)."""
    return f"retrain-{job.job_id}"


def new_job_id(folder: Path) -> str:
    """UTC timestamp, unique within the reports folder."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    job_id, n = stamp, 1
    while (folder / f"{job_id}.json").exists():
        n += 1
        job_id = f"{stamp}-{n}"
    return job_id


def run_job(params: Params, *, root: Path, dry_run: bool = False, accept_drift: bool = False,
            write_back: bool = False, commit_to_current: bool = False) -> dict:
    """Run one retrain under the lock; returns the report (raises after writing it when the job did not succeed).

    Args:
        write_back: after a successful (not dry) run, commit the pipeline's state and push it with git
            (`retrain/<job id>`, or the current branch with `commit_to_current`); needs a DVC remote.

    Raises:
        JobLocked: another retrain holds the lock (nothing is done and no report is written).
        InvalidData, DriftBlocked, PipelineFailed, DvcFailed, WriteBackFailed: after the report is written and logged.
    """
    if not (root / "dvc.yaml").is_file():
        raise ArchlabError(f"{root}: no dvc.yaml here; run `archlab retrain` from the project root")
    from archlab import tasks

    if not tasks.get(params.task).drift_gate:
        from archlab.errors import ParamsError

        gated = [name for name, task in tasks.registry().items() if task.drift_gate]
        raise ParamsError(f"task: archlab retrain supports {', '.join(gated)} only (received {params.task!r}): its "
                          "drift gate compares image histograms. Re-run the pipeline with `dvc repro`; register still "
                          "promotes only a better model")
    if write_back and not dry_run and dvc_state.default_remote(root) is None:
        raise ArchlabError("--write-back commits dvc.lock, whose outputs a fresh clone must be able to pull: "
                           "configure a DVC remote first (archlab remote add PATH|s3://bucket/prefix)")
    with lock.exclusive(root / params.retrain.lock_file):
        reports_dir = root / params.retrain.reports_dir
        job = Job(params, root, new_job_id(reports_dir), dry_run, accept_drift, write_back, commit_to_current)
        started = time.time()
        state: dict = {"job_id": job.job_id, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
                       "dry_run": dry_run, "accept_drift": accept_drift}
        error: BaseException | None = None
        try:
            _steps(job, state)
        except (ArchlabError, KeyboardInterrupt) as exc:
            error = exc
            state.update(_failure(exc))
        if "champion_after" not in state and not isinstance(error, TrackingUnavailable):
            state["champion_after"] = _champion_or_none(params.project.name)
        state["duration_s"] = round(time.time() - started, 1)
        if error is None and write_back and not dry_run:
            error = _write_back(job, state, reports_dir)
        _record(job, state, reports_dir)
        if error is not None:
            raise error
        return state


def _write_back(job: Job, state: dict, reports_dir: Path) -> ArchlabError | None:
    """Commit and push the state, the job's report included (written first, rewritten after with the outcome)."""
    paths = report.write(state, reports_dir)
    try:
        changed = bool(state.get("stages_run")) or any(item["changed"] for item in state.get("imports", []))
        state["write_back"] = writeback.write_back(job.root, job.job_id, list(paths), changed_anything=changed,
                                                   to_current=job.commit_to_current)
    except ArchlabError as exc:
        state["write_back"] = {"committed": False, "error": str(exc)}
        state.update(status="write-back failed", exit_code=exc.exit_code,
                     summary=f"{state['summary']}; but the write-back failed: {str(exc).splitlines()[0]}")
        return exc
    return None


def _failure(exc: BaseException) -> dict:
    if isinstance(exc, KeyboardInterrupt):
        return {"status": "interrupted", "exit_code": 130, "summary": "stopped by a signal", "error": str(exc)}
    status = "blocked by drift" if isinstance(exc, DriftBlocked) else (
        "invalid data" if isinstance(exc, InvalidData) else "failed")
    return {"status": status, "exit_code": exc.exit_code, "summary": str(exc).splitlines()[0], "error": str(exc)}


def _steps(job: Job, state: dict) -> None:
    params, root = job.params, job.root
    experiment_id = tracking.configure(params, root)
    tracking.close_orphaned_runs(experiment_id)  # a job killed last time may have left runs RUNNING
    project = params.project.name
    state["champion_before"] = _champion(project)
    state["imports"] = dvc_state.update_imports(root)  # data that landed at an imported source since last time
    scratch = root / SCRATCH / job.job_id
    try:
        candidate = _candidate(params, scratch)
        current = read_dataset(root / DATA_DIR) if (root / DATA_DIR / "meta.json").is_file() else None
        state["data"] = asdict(drift.changes(candidate, current))
        assessment = _assess(params, candidate, current, state["champion_before"])
        state["drift"] = {**assessment.as_dict(), "limits": params.retrain.drift.model_dump()}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if assessment.blocked and not job.accept_drift:
        raise DriftBlocked("new data drifted beyond the hard limit; no retraining, the champion keeps serving. "
                           "Review the data, then re-run with --accept-drift or remove it: "
                           + "; ".join(assessment.reasons))
    env = {**os.environ, "PATH": dvc_state.path_with_this_python(), "ARCHLAB_PIPELINE_RUN_ID": pipeline_id(job)}
    state["stages_run"] = pipeline.repro(root, env, dry=job.dry_run)
    if job.dry_run:
        state.update(status="dry run", exit_code=0, summary=f"would run {len(state['stages_run'])} stage(s); "
                     "nothing trained, registered or promoted")
        return
    state["dvc_push"] = dvc_state.push(root)  # outputs and run cache, so a fresh runner retrains nothing again
    state["champion_after"] = _champion(project)
    state.update(_decision(root, state))
    state["leaderboard"] = _leaderboard(root)


def _candidate(params: Params, scratch: Path) -> Dataset:
    """Ingest and validate the configured source into a scratch folder (GX Data Docs go there too)."""
    from archlab.ingest import ingest
    from archlab.validation.run import validate

    try:
        ingest(params, scratch / "ingested", scratch / "rejected.csv")
    except DataError as exc:
        raise InvalidData(f"the new data cannot be ingested: {exc}") from None
    validate(params, scratch / "ingested", scratch / "validation.json", scratch / "data_docs")
    return read_dataset(scratch / "ingested")


def _champion(project: str) -> dict | None:
    version = reg.alias_version(project, reg.CHAMPION)
    if version is None:
        return None
    return {"version": str(version.version), "architecture": version.tags.get("archlab.architecture", "?"),
            "run_id": version.run_id, "test_accuracy_when_registered": version.tags.get("test_accuracy")}


def _champion_or_none(project: str) -> dict | None:
    """The champion after a job that stopped early (read again, not assumed); None if the store is unreachable."""
    try:
        return _champion(project)
    except Exception:  # noqa: BLE001 - the report must still be written when the store is the problem
        return None


def _assess(params: Params, candidate: Dataset, current: Dataset | None, champion: dict | None,
            ) -> drift.DriftAssessment:
    """Measured even with nothing new: data a killed job already ingested is still new to the champion."""
    reference, source = None, ""
    if champion is not None:
        reference = tracking.run_json_artifact(champion["run_id"], DATA_PROFILE)
        source = f"training split of champion v{champion['version']} {champion['architecture']} " \
                 f"(run {champion['run_id']}, {reference['count'] if reference else 0} samples)"
    if reference is None and current is not None:
        images, labels, _ = current.split("train")
        reference = profile(images, labels, list(current.meta["class_names"]))
        source = f"training split of the workspace's current dataset ({len(labels)} samples; the champion's own " \
                 "profile is not available)"
    if reference is None:
        return drift.DriftAssessment(level="not measured", compared="first data", reference="nothing to compare with")
    compared, compared_source = drift.compared_profile(candidate, current, params.retrain.drift.min_arrivals)
    return drift.assess(reference, compared, params.retrain.drift, reference_source=source,
                        compared_source=compared_source)


def _decision(root: Path, state: dict) -> dict:
    import json

    if "register" not in state["stages_run"]:
        return {"status": "kept", "exit_code": 0, "decision": None,
                "summary": "the pipeline was up to date (no stage feeding `register` changed); champion kept"}
    decision = json.loads((root / DECISION).read_text())
    return {"status": decision["decision"], "exit_code": 0, "decision": decision, "summary": decision["reason"]}


def _leaderboard(root: Path) -> list[dict]:
    from archlab.leaderboard_view import from_metrics_file

    rows = from_metrics_file(root / EVALUATION) if (root / EVALUATION).is_file() else []
    return [{k: row[k] for k in ("architecture", "accuracy", "macro_f1")} for row in rows[:LEADERBOARD_ROWS]]


def _record(job: Job, state: dict, reports_dir: Path) -> None:
    """Write the report files, then log them to MLflow (a store that is down costs the MLflow copy, not the files)."""
    paths = report.write(state, reports_dir)
    log.info("retrain report: %s", paths[1])
    status = "FINISHED" if state["exit_code"] in (0, DriftBlocked.exit_code) else "FAILED"
    try:
        tracking.record_job(
            job.params, run_name=f"retrain-{job.job_id}", files=paths, status=status,
            tags={"archlab.stage": "retrain", "archlab.retrain_status": state["status"],
                  "archlab.pipeline_run_id": pipeline_id(job)},
            metrics=report.metrics(state))
    except Exception as exc:  # noqa: BLE001 - the report files exist; say why MLflow lacks a copy
        log.error("could not log the retrain report to MLflow: %s: %s", type(exc).__name__, exc)
