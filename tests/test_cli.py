"""`archlab` CLI: check-params exit codes and messages, summary of a produced pipeline."""

import json
import subprocess

import pytest

from tests.conftest import BIN, subprocess_env


def _archlab(*args, cwd=None):
    return subprocess.run([str(BIN / "archlab"), *args], capture_output=True, text=True, cwd=cwd,
                          env=subprocess_env(), timeout=120)


def test_help_lists_verbs():
    proc = _archlab("--help")
    assert proc.returncode == 0 and "check-params" in proc.stdout and "summary" in proc.stdout


def test_check_params_ok_and_bad(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("ingest: {source: digits}\n")
    assert _archlab("check-params", str(good)).returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("ingest: {source: digits, chunk_size: 0}\n")
    proc = _archlab("check-params", str(bad))
    assert proc.returncode == 2
    assert "ingest.chunk_size" in proc.stderr and "Traceback" not in proc.stderr


def test_check_params_json_shows_defaults(tmp_path):
    good = tmp_path / "p.yaml"
    good.write_text("{}\n")
    resolved = json.loads(_archlab("check-params", str(good), "--json").stdout)
    assert resolved["validate"]["min_per_class"] == 5


def test_summary_without_outputs_says_what_to_do(tmp_path):
    proc = _archlab("summary", "--root", str(tmp_path))
    assert proc.returncode == 0 and "dvc repro" in proc.stdout


def test_predict_refuses_pickle_models_without_trust(tmp_path):
    import pickle

    import numpy as np

    np.save(tmp_path / "x.npy", np.zeros((1, 8, 8, 1), np.uint8))
    (tmp_path / "model.pkl").write_bytes(pickle.dumps({"not": "a model"}))
    proc = _archlab("predict", str(tmp_path / "x.npy"), "--model", str(tmp_path / "model.pkl"))
    assert proc.returncode == 2
    assert "pickle" in proc.stderr and "--trust-pickle" in proc.stderr and "Traceback" not in proc.stderr


def test_predict_names_a_missing_input(tmp_path):
    (tmp_path / "models" / "cnn").mkdir(parents=True)
    proc = _archlab("predict", str(tmp_path / "nope.png"), "--model", str(tmp_path / "models" / "cnn"))
    assert proc.returncode == 2 and ("nope.png" in proc.stderr or "model.keras" in proc.stderr)


def test_ui_binds_to_localhost_by_default():
    proc = _archlab("ui", "--help")
    assert proc.returncode == 0 and "127.0.0.1" in proc.stdout


def test_predict_loads_an_outside_keras_model_in_safe_mode(tmp_path):
    """A .keras file whose Lambda layer carries Python code is refused; the code never runs."""
    import keras
    import numpy as np

    marker = tmp_path / "code-ran"
    inputs = keras.Input((8, 8, 1))
    code = f"lambda x: (__import__('pathlib').Path({str(marker)!r}).write_text('ran'), x)[1]"  # no closure
    hostile = keras.layers.Lambda(eval(code))
    outputs = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(hostile(inputs)))
    keras.Model(inputs, outputs).save(tmp_path / "outside.keras")
    marker.unlink()  # building the model ran the lambda once, here; a load must not run it again
    np.save(tmp_path / "x.npy", np.zeros((1, 8, 8, 1), np.uint8))
    proc = _archlab("predict", str(tmp_path / "x.npy"), "--model", str(tmp_path / "outside.keras"))
    assert proc.returncode == 2, proc.stderr
    assert "outside.keras" in proc.stderr and "safe_mode" in proc.stderr and "Traceback" not in proc.stderr
    assert not marker.exists()


@pytest.mark.slow  # two `archlab predict` processes, each importing TensorFlow
def test_predict_prints_its_answer_without_library_chatter_unless_verbose(tmp_path):
    """TensorFlow's C++ start-up notes (oneDNN, CPU instructions, CUDA probes) go to fd 2 before any Python
    setting is read: without --verbose they are caught there, and stdout and stderr hold archlab's output only."""
    import keras
    import numpy as np

    inputs = keras.Input((8, 8, 1))
    outputs = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(inputs))
    keras.Model(inputs, outputs).save(tmp_path / "plain.keras")
    np.save(tmp_path / "x.npy", np.zeros((2, 8, 8, 1), np.uint8))
    args = ("predict", str(tmp_path / "x.npy"), "--model", str(tmp_path / "plain.keras"))
    quiet = _archlab(*args)
    assert quiet.returncode == 0, quiet.stderr
    assert len(quiet.stdout.strip().splitlines()) == 2  # one answer per image
    for chatter in ("oneDNN", "absl", "cuda", "cpu_feature_guard", "Warning"):
        assert chatter.lower() not in quiet.stderr.lower(), quiet.stderr
    verbose = _archlab("--verbose", *args)
    assert verbose.returncode == 0 and verbose.stdout == quiet.stdout
    assert len(verbose.stderr) > len(quiet.stderr)  # the same run with the libraries' own output back


def test_check_params_and_dvc_agree_on_a_file_with_only_task_and_ingest(tmp_path):
    """DVC resolves dvc.yaml's keys before archlab runs: check-params names the missing ones as DVC would stop on
    them, and --complete writes them (the user's values and comments kept) until both accept the file."""
    import yaml

    from tests.dvcrepo import make_repo

    old = "task: image_classification\n# my own note\ningest: {source: digits, chunk_size: 512}  # mine\n"
    repo = make_repo(tmp_path, old)
    refused = _archlab("check-params", cwd=repo)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "lacks compare.architectures, compare.rope, evaluate, featurize," in refused.stderr
    assert "train.architectures" in refused.stderr
    assert "--complete" in refused.stderr
    assert "Could not find" in dvc_refusal(repo)  # DVC refuses it too
    completed = _archlab("check-params", "--complete", cwd=repo)
    assert completed.returncode == 0, completed.stderr
    assert "featurize" in completed.stdout and completed.stdout.strip().endswith("params.yaml: ok")
    text = (repo / "params.yaml").read_text()
    assert "# my own note" in text and "# mine" in text  # comments kept
    params = yaml.safe_load(text)
    assert params["ingest"]["chunk_size"] == 512 and params["tune"]["trials"] == 0  # values kept, defaults added
    assert params["featurize"]["backbones"] == ["vgg16"] and "vgg16" in params["featurize"]  # the section whole
    assert _archlab("check-params", cwd=repo).returncode == 0
    assert dvc_refusal(repo) is None  # and DVC agrees
    previous = {k: v for k, v in params.items() if k not in ("tune", "compare")}  # before the tune and cv stages
    (repo / "params.yaml").write_text(yaml.safe_dump(previous, sort_keys=False))
    named = _archlab("check-params", cwd=repo).stderr
    assert "tune" in named and "compare.architectures" in named and dvc_refusal(repo) is not None
    upgraded = _archlab("init", "--complete", cwd=repo)  # the same as check-params --complete
    assert upgraded.returncode == 0 and "added compare, tune" in upgraded.stdout, upgraded.stdout
    assert dvc_refusal(repo) is None


def dvc_refusal(repo) -> str | None:
    """What DVC says when it resolves dvc.yaml and hashes every stage's params deps, as `dvc repro` does for each
    stage (`ParamsDependency.get_hash` raises "Parameters 'tune' are missing"); None when it accepts."""
    from dvc.dependency.param import ParamsDependency
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    try:
        with Repo(str(repo)) as dvc:
            for stage in dvc.index.stages:
                for dep in stage.deps:
                    if isinstance(dep, ParamsDependency):
                        dep.get_hash()
    except DvcException as exc:
        return str(exc)
    return None
