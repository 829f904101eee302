"""Imbalanced classes: `ingest.imbalance` cuts classes' training samples, `train.<arch>.class_balance` rebalances
the training split only (class_weight, smote, rbm_oversample), and evaluate reports balanced accuracy and the cut
classes' recall. Real digits, real models, a real SQLite MLflow store."""

import hashlib
import json

import mlflow
import numpy as np
import pytest
from scipy.spatial.distance import pdist

from archlab.data.store import read_dataset
from archlab.errors import ParamsError
from archlab.ingest import ingest
from archlab.training.balance import balanced_weights, oversample, rebalance, targets
from archlab.training.data import load_training_data
from tests.conftest import make_params, project_dir, train_and_evaluate

CUT = ["0", "1", "2", "3", "4"]
IMBALANCE = {"imbalance": {"classes": CUT, "keep": 0.1}}
LENIENT = {"max_imbalance_ratio": 20.0}  # the cut is deliberate: validation must allow it


@pytest.fixture(scope="module")
def imbalanced(tmp_path_factory):
    """Digits with classes 0-4 cut to 10% of their training samples, and the same digits uncut."""
    root = tmp_path_factory.mktemp("imbalanced")
    cut, full = root / "cut", root / "full"
    ingest(make_params(ingest=IMBALANCE), out_dir=cut, rejected_csv=root / "rejected_cut.csv")
    ingest(make_params(), out_dir=full, rejected_csv=root / "rejected_full.csv")
    return cut, full


def _split_bytes(dataset, name: str) -> tuple[str, bytes]:
    x, y, rows = read_dataset(dataset).split(name)
    return ",".join(rows["id"]), hashlib.sha256(np.ascontiguousarray(x).tobytes() + y.tobytes()).digest()


def test_the_imbalance_cut_touches_only_the_listed_classes_training_samples(imbalanced):
    cut, full = imbalanced
    y_cut, y_full = load_training_data(cut).y_train, load_training_data(full).y_train
    counts_cut, counts_full = np.bincount(y_cut, minlength=10), np.bincount(y_full, minlength=10)
    for c in range(10):
        expected = max(1, round(0.1 * counts_full[c])) if str(c) in CUT else counts_full[c]
        assert counts_cut[c] == expected
    for split in ("val", "test"):  # every val and test sample stays, byte for byte
        assert _split_bytes(cut, split) == _split_bytes(full, split)
    meta = read_dataset(cut).meta
    assert meta["imbalance"]["left_out"] == int(counts_full.sum() - counts_cut.sum())
    assert meta["count"] == len(read_dataset(cut).manifest) == len(read_dataset(cut).images)


def test_the_validation_gate_stops_an_imbalance_it_was_not_told_about(imbalanced, tmp_path):
    from archlab.errors import ValidationFailed
    from archlab.validation.run import validate

    cut, _ = imbalanced
    with pytest.raises(ValidationFailed, match="imbalance_ratio"):
        validate(make_params(ingest=IMBALANCE), dataset_dir=cut, report_path=tmp_path / "v.json",
                 docs_dir=tmp_path / "d")
    validate(make_params(ingest=IMBALANCE, validate=LENIENT), dataset_dir=cut, report_path=tmp_path / "ok.json",
             docs_dir=tmp_path / "d2")
    assert json.loads((tmp_path / "ok.json").read_text())["success"] is True


@pytest.mark.parametrize("method", ["smote", "rbm_oversample"])
@pytest.mark.parametrize("ratio", [1.0, 0.5])
def test_an_oversampler_reaches_the_ratio_with_valid_images(imbalanced, method, ratio):
    data = load_training_data(imbalanced[0])
    before = np.bincount(data.y_train, minlength=10)
    new_x, new_y = oversample(data.x_train, data.y_train, 10, method, ratio=ratio, seed=3, epochs=100)
    after = np.bincount(np.concatenate([data.y_train, new_y]), minlength=10)
    goal = int(np.ceil(ratio * before.max()))
    assert all(after[c] == max(before[c], goal) for c in range(10))
    assert set(np.unique(new_y)) == {c for c in range(10) if before[c] < goal}
    assert new_x.dtype == np.uint8 and new_x.shape[1:] == data.x_train.shape[1:]  # images on the 0..255 scale
    assert new_x.max() > 100 and new_x.min() < 20  # strokes on a dark background, not a blank or saturated image
    for c in np.unique(new_y):  # each class's samples vary, and look like that class more than like the others
        mine = new_x[new_y == c].reshape(-1, 64).astype(float)
        assert len(mine) < 2 or pdist(mine).mean() > 0
        means = np.stack([data.x_train[data.y_train == k].reshape(-1, 64).mean(0) for k in range(10)])
        nearest = np.argmin(((mine.mean(0) - means) ** 2).sum(1))
        assert nearest == c


def test_rebalancing_replaces_only_the_training_split(imbalanced):
    from archlab import tasks
    from archlab.architectures.zoo.baseline import BaselineParams

    data = load_training_data(imbalanced[0])
    val = (data.x_val.tobytes(), data.y_val.tobytes())
    for method in ("smote", "rbm_oversample", "class_weight"):
        params = BaselineParams(class_balance=method, rbm_epochs=50)
        out = rebalance(data, params, arch_name="baseline", task=tasks.get("image_classification"), seed=0,
                        uses_features=False)
        assert (out.data.x_val.tobytes(), out.data.y_val.tobytes()) == val
        assert np.array_equal(out.data.x_train[:len(data.x_train)], data.x_train)  # the real samples, first
        if method == "class_weight":
            assert out.data is data and out.class_weight == balanced_weights(data.y_train, 10)
            counts = np.bincount(data.y_train)
            assert out.class_weight[0] / out.class_weight[9] == pytest.approx(counts[9] / counts[0])
        else:
            assert sum(out.synthetic.values()) == len(out.data.y_train) - len(data.y_train) > 0
    counts = np.bincount(data.y_train)
    assert targets(data.y_train, 10, 1.0) == {c: counts.max() for c in range(10) if counts[c] < counts.max()}
    assert {0, 1, 2, 3, 4} <= targets(data.y_train, 10, 0.5).keys()


def test_class_balance_refuses_what_it_cannot_do(imbalanced):
    from archlab import tasks
    from archlab.architectures.zoo.baseline import BaselineParams
    from archlab.architectures.zoo.pretrained_head import PretrainedHeadParams

    data = load_training_data(imbalanced[0])
    with pytest.raises(ParamsError, match=r"train.baseline.class_balance: 'smote' .* task 'forecasting'"):
        rebalance(data, BaselineParams(class_balance="smote"), arch_name="baseline", task=tasks.get("forecasting"),
                  seed=0, uses_features=False)
    with pytest.raises(ParamsError, match=r"pretrained_head.*cached embeddings.*use class_weight"):
        rebalance(data, PretrainedHeadParams(class_balance="rbm_oversample"), arch_name="pretrained_head",
                  task=tasks.get("image_classification"), seed=0, uses_features=True)
    with pytest.raises(ParamsError, match=r"ingest.imbalance applies to image and table classification"):
        make_params(task="forecasting", ingest={"source": "co2", **IMBALANCE})
    with pytest.raises(ParamsError, match=r"ingest.imbalance.classes: \['cat'\] are not classes"):
        ingest(make_params(ingest={"imbalance": {"classes": ["cat"], "keep": 0.5}}), out_dir=imbalanced[0].parent /
               "never", rejected_csv=imbalanced[0].parent / "never.csv")
    assert not (imbalanced[0].parent / "never").exists()


@pytest.mark.slow
def test_each_method_trains_logs_and_is_scored_on_the_untouched_test_split(imbalanced, tmp_path):
    """baseline with rbm_oversample and class_weight, cnn with smote: info.json and MLflow record what was done,
    the synthetic images are a figure, and evaluate adds balanced accuracy and the cut classes' recall."""
    cut, _ = imbalanced
    archs = ["baseline", "cnn", "shallow_mlp"]
    with project_dir(tmp_path) as root:
        params = make_params(ingest=IMBALANCE, validate=LENIENT,
                             train={"architectures": archs, "feature_heads": [],
                                    "baseline": {"class_balance": "rbm_oversample", "rbm_epochs": 100},
                                    "cnn": {"class_balance": "smote", "epochs": 2, "filters": [8, 16]},
                                    "shallow_mlp": {"class_balance": "class_weight", "epochs": 2}},
                             evaluate={"bootstrap_resamples": 200, "latency_calls": 5})
        test_before = _split_bytes(cut, "test")
        train_metrics, results = train_and_evaluate(params, archs, cut, root)
        assert _split_bytes(cut, "test") == test_before
        n_train = len(load_training_data(cut).y_train)
        for name, method in (("baseline", "rbm_oversample"), ("cnn", "smote"), ("shallow_mlp", "class_weight")):
            info = json.loads((root / "models" / name / "info.json").read_text())
            assert info["class_balance"]["method"] == method
            run = mlflow.get_run(info["run_id"])
            assert run.data.params["class_balance"] == method
            if method == "class_weight":
                assert set(info["class_balance"]["class_weight"]) == {str(c) for c in range(10)}
                assert info["class_balance"]["n_train"] == n_train
                continue
            synthetic = info["class_balance"]["synthetic_per_class"]
            assert set(CUT) <= set(synthetic)  # the cut classes, and any other below the largest one
            assert info["class_balance"]["n_train"] == n_train + sum(synthetic.values())
            assert {f"synthetic_{c}": float(n) for c, n in synthetic.items()}.items() <= run.data.metrics.items()
            artifacts = [a.path for a in mlflow.MlflowClient().list_artifacts(info["run_id"], "figures")]
            assert "figures/synthetic_samples.png" in artifacts
        evaluation = json.loads((root / "metrics/evaluate.json").read_text())
        for name in archs:
            per_class = evaluation[name]["per_class"]
            assert evaluation[name]["minority_recall"] == pytest.approx(np.mean([per_class[c]["recall"] for c in CUT]))
            recalls = [v["recall"] for v in per_class.values()]
            assert evaluation[name]["balanced_accuracy"] == pytest.approx(np.mean(recalls))
            assert sum(v["support"] for v in per_class.values()) == len(read_dataset(cut).split("test")[1])
        leaderboard = (root / "reports/leaderboard.md").read_text()
        assert "balanced acc." in leaderboard and "minority recall" in leaderboard
