"""One test over the whole registry (every architecture): it builds, trains, its loss falls, it saves and reloads
to the same predictions. Shapes are asserted, never layer counts."""

import math

import numpy as np
import pytest

from archlab import device, modelio
from archlab.architectures.registry import registry
from archlab.params import DEFAULT_ARCHITECTURES, load_params
from archlab.training.fit import FitContext
from tests.conftest import ROOT, quick_params

ARCHITECTURES = sorted(name for name, arch in registry().items()
                       if "image_classification" in arch.fits)  # image classifiers;
# the forecasters and tabular builders have their own tests (test_forecasting.py, test_tabular.py)


def test_every_default_and_configured_architecture_is_registered():
    assert set(DEFAULT_ARCHITECTURES) <= set(ARCHITECTURES)
    params = load_params(ROOT / "params.yaml")
    assert set(params.train.architectures) <= set(ARCHITECTURES)
    for name in params.train.architectures:
        assert params.train.arch_params(name) is not None


@pytest.fixture(scope="module")
def trained(tiny_data, digits_session_dataset, tmp_path_factory):
    """Each architecture trained once (2 epochs) on the tiny subset, shared by the tests below.

    pretrained_head trains on cached VGG16 features of the whole digits train split (features are per split).
    """
    from archlab.features import featurize
    from archlab.training.data import load_training_data
    from tests.conftest import make_params

    results = {}
    for name in ARCHITECTURES:
        arch = registry()[name]
        device.prepare(0)
        tmp = tmp_path_factory.mktemp(name)
        ctx = FitContext(seed=0, checkpoint_dir=tmp / "ckpt", artifact_dir=tmp / "figures")
        data = tiny_data
        if name == "pretrained_head":
            featurize(make_params(), "vgg16", data_dir=digits_session_dataset, out_dir=tmp / "features")
            ctx.features_dir, data = tmp / "features", load_training_data(digits_session_dataset)
        results[name] = arch.fits["image_classification"](data, quick_params(arch), ctx)
    return results


@pytest.mark.slow  # trains every architecture (VGG16 fine-tuning included): the fast lane leaves it out
@pytest.mark.parametrize("name", ARCHITECTURES)
def test_loss_falls(name, trained, tiny_data):
    result = trained[name]
    if result.kind == "sklearn":
        # One fit, no epochs: its log-loss must beat the uninformed guess.
        assert result.history[0]["loss"] < math.log(tiny_data.n_classes)
        assert result.history[0]["val_accuracy"] > 1.0 / tiny_data.n_classes
        return
    for phase in dict.fromkeys(row["phase"] for row in result.history):
        losses = [row["loss"] for row in result.history if row["phase"] == phase]
        assert len(losses) == 2 and losses[1] < losses[0], (phase, losses)


@pytest.mark.slow
@pytest.mark.parametrize("name", ARCHITECTURES)
def test_output_shape_and_save_reload(name, trained, tiny_data, tmp_path):
    result = trained[name]
    images = tiny_data.x_val[:7]
    before = modelio.predict_proba(result.model, images)
    assert before.shape == (7, tiny_data.n_classes)
    np.testing.assert_allclose(before.sum(axis=1), 1.0, rtol=1e-4)
    path = modelio.save(result.model, result.kind, tmp_path)
    after = modelio.predict_proba(modelio.load(path), images)
    np.testing.assert_allclose(after, before, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_autoencoder_reconstructs_and_draws_its_grid(trained):
    result = trained["autoencoder"]
    assert 0.0 < result.metrics["val_reconstruction_mse"] < 0.25
    assert result.figures and result.figures[0].stat().st_size > 1000
    reconstruction = result.companions["autoencoder"].predict(np.zeros((2, 8, 8, 1), np.uint8), verbose=0)
    assert reconstruction.shape == (2, 8, 8, 1)


def test_same_seed_same_metrics(tiny_data, tmp_path):
    arch = registry()["cnn"]
    runs = []
    for attempt in range(2):
        device.prepare(7)
        result = arch.fits["image_classification"](tiny_data, quick_params(arch),
                                                   FitContext(seed=7, checkpoint_dir=tmp_path / str(attempt)))
        runs.append([(row["loss"], row["val_accuracy"]) for row in result.history])
    assert runs[0] == runs[1]


def test_transformer_patch_larger_than_image_is_a_params_error(tiny_data, tmp_path):
    from archlab.errors import ParamsError

    arch = registry()["transformer"]
    with pytest.raises(ParamsError, match="patch_size=16"):
        arch.fits["image_classification"](tiny_data, quick_params(arch, patch_size=16),
                                          FitContext(seed=0, checkpoint_dir=tmp_path))


def test_lstm_keeps_cudnn_compatible_settings():
    import keras

    from archlab.architectures.zoo.lstm import LstmParams, build

    model = build((8, 8, 1), 10, LstmParams())
    lstms = [layer for layer in model.layers if isinstance(layer, keras.layers.LSTM)]
    assert lstms
    for layer in lstms:
        assert layer.activation.__name__ == "tanh" and layer.recurrent_activation.__name__ == "sigmoid"
        assert layer.recurrent_dropout == 0 and not layer.unroll and layer.use_bias
