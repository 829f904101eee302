"""The one place that talks to MLflow, one concern per module:

- `store`: the tracking URI, the server probe, the experiment;
- `pipeline`: the pipeline id every stage of one `dvc repro` shares, and orphaned runs closed KILLED;
- `runs`: a stage's run from start to end (never left RUNNING), child runs for tuning trials;
- `records`: params, metrics, tags, artifacts and datasets of a run;
- `jobs`: runs that record a whole job (`archlab retrain`);
- `pyfunc`: every model as an MLflow pyfunc with its signature and requirements;
- `clock`: the time spent in MLflow (the benchmark's MLflow cost).

Callers use `from archlab import tracking` and the names below.

The tracking URI comes from params (`mlflow.tracking_uri`) unless `MLFLOW_TRACKING_URI` is set, so a team can
point the same pipeline at a shared server without editing params.yaml. A relative SQLite path is anchored at the
project root, so a stage started from any folder writes to the same `mlflow.db`; a queued `dvc exp run` runs in a
temporary copy under .dvc/tmp/exps, and there the anchor is the real project (DVC's `DVC_ROOT`), so its runs land
in the project's store instead of vanishing with the copy.
"""

from __future__ import annotations

from archlab.tracking.clock import now_ms, seconds_in_mlflow, timed
from archlab.tracking.jobs import record_job, run_json_artifact
from archlab.tracking.pipeline import close_orphaned_runs, pipeline_run_id
from archlab.tracking.pyfunc import log_pyfunc_model
from archlab.tracking.records import (
    DATASET_ATTEMPTS,
    DUPLICATE_KEY,
    flatten_params,
    log_artifacts,
    log_dataset,
    log_dict,
    log_metrics,
    log_params,
    set_tags,
)
from archlab.tracking.runs import (
    EpochLogger,
    end_after_error,
    end_run,
    log_child_run,
    run,
    run_tags,
    server_lost,
    start_run,
)
from archlab.tracking.store import (
    HTTP_DEFAULTS,
    SERVER_PROBE_TIMEOUT_S,
    SQLITE_PREFIX,
    check_server,
    configure,
    experiment_name,
    resolve_tracking_uri,
    store_root,
)

__all__ = [
    "DATASET_ATTEMPTS", "DUPLICATE_KEY", "EpochLogger", "HTTP_DEFAULTS", "SERVER_PROBE_TIMEOUT_S",
    "SQLITE_PREFIX", "check_server", "close_orphaned_runs", "configure", "end_after_error", "end_run",
    "experiment_name", "flatten_params", "log_artifacts", "log_child_run", "log_dataset", "log_dict",
    "log_metrics", "log_params", "log_pyfunc_model", "now_ms", "pipeline_run_id", "record_job",
    "resolve_tracking_uri", "run", "run_json_artifact", "run_tags", "seconds_in_mlflow", "server_lost",
    "set_tags", "start_run", "store_root", "timed"
]
