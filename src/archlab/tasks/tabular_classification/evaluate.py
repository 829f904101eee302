"""Evaluate for tabular classification: the classification evaluation plus, for every model that imputes (the
tabular rbm), the imputation error on the test split's masked cells against the true values."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from archlab import modelio
from archlab.tasks.classification_evaluate import ClassificationEvaluation
from archlab.tasks.tabular_classification.imputation import imputation_scores

log = logging.getLogger(__name__)


class TableEvaluation(ClassificationEvaluation):
    """Classification evaluation with the imputation scores."""

    def extra_scores(self, results: dict, dataset, models_dir: Path, params) -> None:
        """Imputation RMSE on the test split's masked cells, for every model that imputes (the tabular rbm)."""
        truth = dataset.truth("test")
        if truth is None:
            return
        x_train = dataset.split("train")[0]
        x_test = dataset.split("test")[0]
        for name in results:
            scores = imputation_scores(modelio.load(models_dir / name), x_test, np.asarray(truth), x_train)
            if scores is not None:
                results[name]["imputation"] = scores
                log.info("%s: imputation RMSE %.4f vs mean imputation %.4f (standardised units, %d cells)", name,
                         scores["imputation_rmse"], scores["mean_imputation_rmse"], scores["imputed_cells"])


def evaluate(task, params, dataset, names: list[str], skipped: dict[str, str], *, models_dir: Path,
             paths) -> dict[str, dict]:
    return TableEvaluation(task).evaluate(params, dataset, names, skipped, models_dir=models_dir, paths=paths)
