"""Seeds and cross-validation through the real `dvc repro` on a copy of the session's pipeline: two seeds per
model (the feature head included) and 2-fold CV of two architectures on the Ray cluster RAY_ADDRESS names; evaluate
reports the spread over seeds and the CV verdicts, and each cv@ stage depends on its tuned file.

Tuning through DVC is test_pipeline_dvc.py's; a module of its own, so the suite's two workers run them side by
side (each half of what one test took)."""

import json

import pytest
import yaml

from tests.dvcrepo import copy_repo, repro_on_a_ray_cluster, run

pytestmark = pytest.mark.slow


def test_seeds_and_cross_validation_through_dvc(shared_pipeline, tmp_path):
    repo = copy_repo(shared_pipeline, tmp_path / "repo")
    params = repo / "params.yaml"
    params.write_text(params.read_text().replace("seeds: []", "seeds: [7, 8]")
                      .replace("compare: {folds: 0, repeats: 1, rope: 0.01, architectures: []}",
                               "compare: {folds: 2, repeats: 1, rope: 0.01, architectures: [baseline, cnn]}"))
    out, head_node = repro_on_a_ray_cluster(repo)  # seeds and folds join one Ray head
    for stage in ("train@baseline", "train@cnn", "train_head@pretrained_head", "cv@baseline", "cv@cnn", "evaluate"):
        assert f"Running stage '{stage}'" in out, stage
    assert "Running stage 'featurize'" not in out and "Running stage 'tune" not in out  # nothing they read changed
    evaluation = json.loads((repo / "metrics/evaluate.json").read_text())
    for name in ("baseline", "cnn", "pretrained_head"):
        entry = evaluation[name]
        assert entry["seeds"] == [7, 8] and {"test_accuracy_mean", "test_accuracy_std"} <= set(entry)
        assert min(entry["seed_accuracy"].values()) <= entry["test_accuracy_mean"] <= max(
            entry["seed_accuracy"].values())
    for name in ("baseline", "cnn"):  # two folds each, on the cluster, paired into verdicts by evaluate
        folds = json.loads((repo / f"metrics/cv/{name}.json").read_text())
        assert sorted(folds["scores"]) == ["r0-f0", "r0-f1"] and set(folds["nodes"].values()) == {head_node}
        assert evaluation[name]["cv_verdict"] in {"best", "worse", "tied within rope", "undecided", "better"}
    assert "CV accuracy (mean ± std)" in (repo / "reports/leaderboard.md").read_text()
    # cv@cnn reads its tuned file as train@cnn does: a different choice there makes both (and only them) stale
    (repo / "tuned/cnn.yaml").write_text(yaml.safe_dump({"dropout": 0.123}))
    status = run(["dvc", "status", "train@cnn", "train@baseline", "cv@cnn", "cv@baseline"], repo).stdout
    assert "train@cnn" in status and "cv@cnn" in status and "modified:           tuned/cnn.yaml" in status
    assert "train@baseline" not in status and "cv@baseline" not in status
