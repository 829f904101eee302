"""`archlab serve` (a real `mlflow models serve` of models:/<project>@champion) answers like `archlab predict` on the
same input, and listens on 127.0.0.1 only."""

import json
import subprocess
import time
import urllib.request

import numpy as np
import pytest

from tests.conftest import BIN, subprocess_env
from tests.dvcrepo import free_port, listening_addresses
from tests.test_evaluate_register import workspace  # noqa: F401 - shared module fixture

pytestmark = pytest.mark.slow


def test_served_champion_matches_archlab_predict(workspace, tmp_path):  # noqa: F811
    from tests.test_evaluate_register import _register

    root, params, _, dataset = workspace
    _register(root, params, dataset)
    images = np.load(dataset / "images.npy")[:6]
    np.save(tmp_path / "six.npy", images)
    (root / "params.yaml").write_text(
        "project: {name: evalproj, seed: 1}\ntrain: {architectures: [baseline, shallow_mlp], feature_heads: []}\n")
    env = subprocess_env(MLFLOW_TRACKING_URI=f"sqlite:///{root}/mlflow.db")

    cli = subprocess.run([str(BIN / "archlab"), "predict", str(tmp_path / "six.npy"), "--json"], cwd=root, env=env,
                         capture_output=True, text=True, timeout=180)
    assert cli.returncode == 0, cli.stderr
    cli_labels = [row["label"] for row in json.loads(cli.stdout.strip().splitlines()[-1])]

    port = free_port()
    server = subprocess.Popen([str(BIN / "archlab"), "serve", "--port", str(port)],  # no --host: the default
                              cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        body = json.dumps({"inputs": images.astype(float).tolist()}).encode()
        deadline, answer = time.monotonic() + 120, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body,
                                                 headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=10) as response:
                    answer = json.loads(response.read())
                break
            except OSError:
                time.sleep(0.5)
        assert answer is not None, server.stderr.read() if server.poll() is not None else "server never answered"
        assert listening_addresses(port) == {"127.0.0.1"}  # never 0.0.0.0 unless the user says so
    finally:
        server.terminate()
        server.wait(timeout=30)
    served_labels = [row["label"] for row in answer["predictions"]]
    assert served_labels == cli_labels
    assert len(served_labels) == 6 and set(answer["predictions"][0]) >= {"label", "class_name", "p_0"}
