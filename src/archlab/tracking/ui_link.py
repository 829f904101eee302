"""The MLflow UI link `archlab ui` prints: the project's experiment on its training runs, with the columns a
comparison reads already on screen.

MLflow 3.17's UI starts in its GenAI workflow (a browser-stored switch) whatever the experiment's kind, and its runs
table shows no metric or param column until one is picked by hand (the picks live in the browser's storage). Two
parts of the UI's own code (mlflow/server/js, 3.17) do it from the server side: the URL parameter
`workflowType=machine_learning` opens the model-training workflow, and a view state stored as the experiment tag
`mlflow.sharedViewState.<key>` (what the UI's own "share view" writes) is applied when the URL names it as
`viewStateShareKey`.
"""

from __future__ import annotations

import json

from archlab.params import Params
from archlab.tracking.store import experiment_name

TRAINING_WORKFLOW = "workflowType=machine_learning"
VIEW_KEY = "archlab-compare"
VIEW_TAG_PREFIX = "mlflow.sharedViewState."


def column(kind: str, name: str) -> str:
    """The UI's column key: metrics.`name`, params.`name`."""
    return f"{kind}.`{name}`"


def comparison_view(score: str, higher_is_better: bool) -> dict:
    """The runs table for comparing architectures: architecture, seed, the best validation score (best first), the
    training time and the parameter count (what every train@ run logs)."""
    return {"selectedColumns": [column("params", "architecture"), column("params", "seed"),
                                column("metrics", score), column("metrics", "train_seconds"),
                                column("metrics", "param_count")],
            "orderByKey": column("metrics", score), "orderByAsc": not higher_is_better}


def training_runs_link(params: Params, uri: str, score: str, higher_is_better: bool) -> str | None:
    """The UI path of the project's experiment on its training runs with the comparison's columns
    (`#/experiments/<id>/runs?...`), writing the view's tag when it differs; None when the store holds no such
    experiment yet (nothing has run) or cannot be read or written."""
    import mlflow

    view = json.dumps(comparison_view(score, higher_is_better), sort_keys=True)
    try:
        client = mlflow.MlflowClient(tracking_uri=uri)
        experiment = client.get_experiment_by_name(experiment_name(params))
        if experiment is None:
            return None
        if experiment.tags.get(VIEW_TAG_PREFIX + VIEW_KEY) != view:
            client.set_experiment_tag(experiment.experiment_id, VIEW_TAG_PREFIX + VIEW_KEY, view)
    except Exception:  # noqa: BLE001 - a link is a convenience: the UI starts without it
        return None
    return f"#/experiments/{experiment.experiment_id}/runs?{TRAINING_WORKFLOW}&viewStateShareKey={VIEW_KEY}"
