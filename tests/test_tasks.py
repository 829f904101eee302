"""Tasks as plugins: the registry, metrics that know their direction, and no task branches outside the tasks."""

from __future__ import annotations

import re

import pytest

from archlab import tasks
from archlab.architectures.registry import registry
from archlab.errors import ParamsError
from archlab.params import parse_params
from tests.conftest import ROOT

TASK_NAME_BRANCH = re.compile(r'task ?==|TABULAR|FORECASTING|TEXT_TO_IMAGE|"forecasting"|"tabular_classification"')


def test_every_task_package_is_discovered_and_complete():
    found = tasks.registry()
    assert sorted(found) == ["forecasting", "image_classification", "tabular_classification", "text_to_image"]
    functions = {"ingest": "ingest", "validate": "validate", "evaluate": "evaluate", "register": "scorer"}
    assert set(functions) == set(tasks.PARTS)
    for name, task in found.items():
        assert task.name == name and task.sources and task.metrics and task.inputs
        assert task.metric(None) is task.metrics[0]
        for part, function in functions.items():  # every stage part, under the same module name in every task
            assert callable(getattr(tasks.part(name, part), function)), (name, part)
    with pytest.raises(ValueError, match="unknown task part 'train'"):
        tasks.part("forecasting", "train")


def test_a_metric_knows_its_direction():
    accuracy = tasks.get("image_classification").metric("accuracy")
    rmse = tasks.get("forecasting").metric("rmse")
    assert accuracy.improvement(0.9, 0.8) == pytest.approx(0.1) and rmse.improvement(0.4, 0.5) == pytest.approx(0.1)
    assert sorted([0.2, 0.9, 0.5], key=accuracy.sort_key) == [0.9, 0.5, 0.2]
    assert sorted([0.2, 0.9, 0.5], key=rmse.sort_key) == [0.2, 0.5, 0.9]
    with pytest.raises(ValueError, match="metric 'rmse' does not fit task 'image_classification'"):
        tasks.get("image_classification").metric("rmse")


def test_every_fits_key_of_the_zoo_names_a_task():
    known = tasks.registry()
    for arch in registry().values():
        assert arch.fits, f"{arch.name} fits no task"
        assert set(arch.fits) <= set(known), f"{arch.name}: fits {sorted(arch.fits)}; tasks are {sorted(known)}"


def test_an_unknown_task_is_a_params_error_listing_the_known():
    with pytest.raises(ParamsError, match=r"task: unknown task 'speech'; known: \['forecasting'"):
        tasks.get("speech")
    with pytest.raises(ParamsError, match="unknown task 'speech'"):
        parse_params({"task": "speech"})


def test_no_code_outside_the_tasks_compares_a_task_name():
    """The issue's check, kept: `grep -rnE "task ?==|TABULAR|..." src/archlab` finds nothing outside tasks/."""
    offenders = [f"{path.relative_to(ROOT)}:{i}: {line.strip()}"
                 for path in sorted((ROOT / "src/archlab").rglob("*.py")) if "tasks" not in path.parts
                 for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if TASK_NAME_BRANCH.search(line)]
    assert offenders == []


def test_a_new_task_needs_only_its_own_class():
    """A fifth task registered in-process: params accept it, the architectures without a `fits` entry for it are
    skipped with the task's own words, and one that borrows a task's fits trains."""
    from archlab.tasks.classification import ClassificationTask

    class Sketches(ClassificationTask):
        name = "sketch_classification"
        inputs = "pen strokes (N, T, 3)"
        sources = ("digits",)
        borrows = "image_classification"

    tasks.register(Sketches())
    try:
        params = parse_params({"task": "sketch_classification", "featurize": {"backbones": []},
                               "train": {"feature_heads": []}})
        task = tasks.get(params.task)
        assert params.task_metric.name == "accuracy"
        assert task.skip_reason(registry()["cnn"]) is None and task.fitted_for(registry()["cnn"]) == \
            "image_classification"
        reason = task.skip_reason(registry()["seasonal_naive"])
        assert "task sketch_classification gives pen strokes (N, T, 3)" in reason
    finally:
        tasks.REGISTRY.pop("sketch_classification")
