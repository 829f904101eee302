"""Every architecture's search space is sound for its params schema, and a sampled config becomes valid params."""

from __future__ import annotations

import pytest
from pydantic import Field

from archlab.architectures import registry
from archlab.architectures.common import KerasFitParams
from archlab.architectures.search_space import Choice, Integer, Real, check, decode, edge_values, to_ray


@pytest.mark.parametrize("name", sorted(registry.registry()))
def test_each_architecture_declares_a_sound_space(name):
    """Keys are fields, not budget; both ends of each range and every choice pass the params schema."""
    architecture = registry.get(name)
    assert check(name, architecture.search, architecture.params, {}) == []


def test_the_networks_search_the_same_learning_rate_and_batch_size_ranges():
    keras_models = [a for a in registry.registry().values() if issubclass(a.params, KerasFitParams)]
    assert len(keras_models) >= 10
    for architecture in keras_models:
        assert architecture.search["learning_rate"] == Real(1e-4, 1e-2, log=True), architecture.name
        assert architecture.search["batch_size"] == Choice((32, 64, 128)), architecture.name


def test_check_names_the_key_and_what_is_wrong():
    class Toy(KerasFitParams):
        dropout: float = Field(0.2, ge=0.0, lt=1.0)

    problems = check("toy", {"dropout": Real(0.0, 1.0), "width": Integer(8, 64), "epochs": Integer(5, 50),
                             "learning_rate": Real(0.01, 0.001, log=True), "batch_size": Choice(())}, Toy, {})
    text = "\n".join(problems)
    assert "toy.dropout=1.0: refused by Toy" in text and "less than 1" in text
    assert "toy.width: not a field of Toy" in text
    assert "toy.epochs: part of the training budget" in text
    assert "toy.learning_rate: range [0.01, 0.001] is empty" in text
    assert "toy.batch_size: a choice with no options" in text


def test_a_ray_sample_decodes_into_valid_params_lists_included():
    """Optuna's categorical choices are scalars only: list options travel as JSON text and come back as lists."""
    architecture = registry.get("cnn")
    domains = to_ray(architecture.search)
    assert isinstance(domains["filters"].categories[0], str)
    for seed in range(20):
        sample = {key: domain.sample(random_state=seed) for key, domain in domains.items()}
        values = decode(architecture.search, sample)
        assert values["filters"] in edge_values(architecture.search["filters"])
        assert 1e-4 <= values["learning_rate"] <= 1e-2 and values["convs_per_block"] in (1, 2)
        params = architecture.params.model_validate(values)
        assert params.filters == values["filters"] and isinstance(params.dense_units, int)
