"""params.yaml schema: defaults, the repo's own file, and one clear message per kind of mistake."""

import pytest

from archlab.errors import ParamsError
from archlab.params import load_params, parse_params
from tests.conftest import ROOT


def test_repo_params_file_is_valid():
    params = load_params(ROOT / "params.yaml")
    assert params.ingest.source == "digits"
    assert params.mlflow.tracking_uri == "sqlite:///mlflow.db"


@pytest.mark.parametrize("task", ["tabular", "forecasting", "text_to_image"])
def test_example_task_params_are_valid_and_say_which_architectures_are_skipped(task):
    """Each task's example file parses, keeps every key dvc.yaml tracks, and lists at least one architecture with
    no builder for the task (so the skip path is part of the example)."""
    from archlab import tasks
    from archlab.architectures.registry import get

    params = load_params(ROOT / "params" / f"{task}.yaml")
    raw = __import__("yaml").safe_load((ROOT / "params" / f"{task}.yaml").read_text())
    assert all(name in raw["train"] for name in params.train.architectures)  # DVC reads train.<name> from the file
    reasons = {name: tasks.get(params.task).skip_reason(get(name)) for name in params.train.architectures}
    assert sum(r is None for r in reasons.values()) >= 3
    assert any(reasons.values()) or params.task == "text_to_image"  # every image classifier judges generators


def test_unknown_key_names_its_path():
    with pytest.raises(ParamsError) as info:
        parse_params({"ingest": {"sorce": "digits"}}, source="p.yaml")
    message = str(info.value)
    assert "p.yaml" in message and "ingest.sorce" in message and "unknown key" in message


def test_wrong_type_names_key_value_and_expectation():
    with pytest.raises(ParamsError) as info:
        parse_params({"validate": {"min_per_class": "many"}})
    message = str(info.value)
    assert "validate.min_per_class" in message and "'many'" in message and "integer" in message


def test_out_of_range_value_is_refused():
    with pytest.raises(ParamsError) as info:
        parse_params({"ingest": {"max_rejected_fraction": 1.5}})
    assert "ingest.max_rejected_fraction" in str(info.value) and "1.5" in str(info.value)


def test_bad_choice_lists_allowed_values():
    with pytest.raises(ParamsError) as info:
        parse_params({"ingest": {"source": "csv"}})
    assert "'digits'" in str(info.value) and "'csv'" in str(info.value)


def test_split_fractions_must_sum_to_one():
    with pytest.raises(ParamsError) as info:
        parse_params({"ingest": {"split": {"train": 0.8, "val": 0.15, "test": 0.15}}})
    assert "ingest.split" in str(info.value) and "sum to 1.0" in str(info.value)


def test_image_dir_requires_image_size():
    with pytest.raises(ParamsError) as info:
        parse_params({"ingest": {"source": "image_dir", "path": "x"}})
    assert "image_size" in str(info.value)


def test_several_mistakes_reported_together():
    with pytest.raises(ParamsError) as info:
        parse_params({"project": {"seed": -1}, "validate": {"max_imbalance_ratio": 0.5}})
    assert "project.seed" in str(info.value) and "validate.max_imbalance_ratio" in str(info.value)


def test_yaml_python_tags_are_refused(tmp_path):
    bad = tmp_path / "params.yaml"
    bad.write_text("project: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ParamsError) as info:
        load_params(bad)
    assert str(bad) in str(info.value) and "not valid YAML" in str(info.value)


def test_missing_params_file(tmp_path):
    with pytest.raises(ParamsError) as info:
        load_params(tmp_path / "nope.yaml")
    assert "nope.yaml" in str(info.value) and "not found" in str(info.value)


def test_top_level_must_be_a_mapping(tmp_path):
    bad = tmp_path / "params.yaml"
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ParamsError, match="mapping"):
        load_params(bad)
