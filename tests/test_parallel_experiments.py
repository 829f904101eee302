"""Parallel experiments on the embedded SQLite store: `dvc exp run --queue` with two param sets and
`dvc queue start -j 2`. DVC runs queued experiments in temporary copies under .dvc/tmp/exps; their runs must land
in the project's own mlflow.db, each exactly once, and the registry must end with the best model as champion.
The MLflow UI check (a real Chromium) reads the same store."""

import collections
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import BIN, ROOT, subprocess_env
from tests.dvcrepo import (
    digits_params,
    free_port,
    listening_addresses,
    make_repo,
    run_queued_experiments,
    wait_for_health,
)

pytestmark = pytest.mark.slow
C_VALUES = (0.01, 1.0)


def max_overlap(runs) -> int:
    """The most runs that were in progress at one moment (start/end times from the store)."""
    events = sorted([(r.info.start_time, 1) for r in runs] + [(r.info.end_time, -1) for r in runs])
    depth = best = 0
    for _, step in events:
        depth += step
        best = max(best, depth)
    return best


@pytest.fixture(scope="module")
def queued(tmp_path_factory):
    import mlflow

    repo = make_repo(tmp_path_factory.mktemp("queue"), digits_params("queue"))
    status = run_queued_experiments(repo, [f"train.baseline.C={c}" for c in C_VALUES], jobs=2)
    mlflow.set_tracking_uri(f"sqlite:///{repo}/mlflow.db")
    runs = mlflow.search_runs(experiment_names=["queue"], output_format="list")
    return {"repo": repo, "status": status, "runs": runs, "client": mlflow.MlflowClient()}


def test_every_queued_experiment_is_recorded_exactly_once(queued):
    assert queued["status"].count("Success") == len(C_VALUES), queued["status"]
    runs = queued["runs"]
    counted = collections.Counter((r.data.tags.get("archlab.dvc_experiment"), r.info.run_name) for r in runs)
    experiments = {name for name, _ in counted}
    assert len(experiments) == len(C_VALUES) and None not in experiments
    assert set(counted.values()) == {1}  # one run per model and one evaluation per experiment, no duplicates
    assert {run for _, run in counted} == {"baseline", "shallow_mlp", "evaluation"}
    assert {r.info.status for r in runs} == {"FINISHED"}
    assert {r.data.params["C"] for r in runs if r.info.run_name == "baseline"} == {str(c) for c in C_VALUES}
    assert not (queued["repo"] / ".dvc/tmp/exps").exists() or not list((queued["repo"] / ".dvc/tmp/exps")
                                                                        .rglob("mlflow.db"))


def test_two_experiments_ran_at_the_same_time(queued):
    """-j 2 really ran two pipelines at once against one SQLite file (what used to lose runs)."""
    assert max_overlap(queued["runs"]) >= 2


def test_the_champion_is_the_best_of_the_parallel_challengers(queued):
    client = queued["client"]
    versions = client.search_model_versions("name='queue'")
    assert len(versions) == len(C_VALUES)
    best = max(float(v.tags["test_accuracy"]) for v in versions)
    champion = client.get_model_version_by_alias("queue", "champion")
    assert float(champion.tags["test_accuracy"]) == best
    artifact_root = client.get_experiment_by_name("queue").artifact_location
    assert artifact_root == (queued["repo"] / "mlruns" / "queue").as_uri()  # not inside a deleted temp copy


# --- The MLflow UI as users see it: Debian's Chromium, driven by Playwright, headless -----------------------------

UI_PRINTED = {}  # the file `archlab ui` printed its links to
CHROMIUM = "/usr/bin/chromium"  # installed by `make test` (the Makefile's `browser` target), never downloaded here
SCREENSHOTS = ROOT / "reports" / "ui"


@pytest.fixture(scope="module")
def ui(queued, tmp_path_factory):
    """`.venv/bin/archlab ui` on the queued store, on a free port (it binds 127.0.0.1 by default), with a PATH that
    does not hold the venv: as the README tells a user without an activated venv to start it."""
    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)"
    port = free_port()
    printed = tmp_path_factory.mktemp("ui") / "stdout.txt"
    proc = subprocess.Popen([str(BIN / "archlab"), "ui", "--port", str(port)], cwd=queued["repo"],
                            env=subprocess_env(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true",
                                               PATH="/usr/bin:/bin"),
                            stdout=printed.open("w"), stderr=subprocess.PIPE, text=True)
    UI_PRINTED["path"] = printed
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


def metric_row(page, name: str) -> list[str]:
    """The compare view's metric table is two virtualized grids: names (all rows rendered) and values (rendered
    as they scroll into view). Find `name`'s row offset, scroll the values grid there, read that row's cells."""
    page.get_by_text(name, exact=True).first.wait_for(state="attached")
    return page.evaluate("""(name) => new Promise((resolve) => {
        const label = Array.from(document.querySelectorAll('.ReactVirtualized__Grid__innerScrollContainer > div'))
            .find(d => d.innerText.trim() === name);
        const names = label.closest('.ReactVirtualized__Grid');
        const values = Array.from(document.querySelectorAll('.ReactVirtualized__Grid')).find(g => g !== names
            && g.firstElementChild && g.firstElementChild.style.height === names.firstElementChild.style.height);
        const top = label.style.top;
        values.scrollTop = parseFloat(top);
        setTimeout(() => resolve(Array.from(values.firstElementChild.children)
            .filter(cell => cell.style.top === top)
            .sort((a, b) => parseFloat(a.style.left) - parseFloat(b.style.left))
            .map(cell => cell.innerText.trim())), 500);
    })""", name)


def test_the_ui_listens_on_localhost_only(ui):
    port = int(ui.rsplit(":", 1)[1])
    assert listening_addresses(port) == {"127.0.0.1"}  # `archlab ui` was started without --host


def test_the_compare_view_shows_every_architectures_test_accuracy(queued, ui, browser):
    from playwright.sync_api import expect

    # an experiment whose identical train@shallow_mlp DVC restored from its run cache has no run for it: take one
    # that trained both models
    executions = collections.Counter(r.data.tags["archlab.pipeline_run_id"] for r in queued["runs"])
    execution = executions.most_common(1)[0][0]
    expected = {r.info.run_name: r.data.metrics["test_accuracy"] for r in queued["runs"]
                if r.data.tags["archlab.pipeline_run_id"] == execution and r.info.run_name != "evaluation"}
    page = browser.new_page(viewport={"width": 2000, "height": 3000})  # tall: every metric row is on screen
    page.goto(ui)
    page.get_by_role("button", name="Model training", exact=True).click()
    page.get_by_role("link", name="queue", exact=True).first.click()  # the experiment, from the home page list
    search = page.get_by_test_id("search-box")
    search.fill(f"tags.archlab.pipeline_run_id = '{execution}'")
    search.press("Enter")
    page.wait_for_url(re.compile(r"searchFilter=tags"))
    # The grid was seen (1 run in 3) to keep the unfiltered rows under an updated "3 matching runs" count; the
    # filter is now in the URL, so a reload lists only the filtered runs, as a shared link would.
    page.reload()
    rows = len(expected) + 1  # the models and the evaluation run
    page.get_by_text(f"{rows} matching runs").wait_for()
    row_boxes = page.get_by_role("checkbox", name=re.compile(r"toggle row selection"))
    expect(row_boxes).to_have_count(rows, timeout=20_000)  # only this execution's runs are listed
    for i in range(rows):  # one by one: "select all" was seen to catch the unfiltered list mid-refresh
        row_boxes.nth(i).check()
    expect(page.get_by_role("checkbox", name=re.compile(r"row selection \(checked\)"))).to_have_count(rows)
    page.get_by_role("button", name="Compare", exact=True).click()
    page.get_by_text(f"Comparing {len(expected) + 1} Runs").wait_for()
    names = [c.inner_text().strip() for c in page.locator("tr", has=page.get_by_text("Run Name:", exact=True))
             .first.locator("td, th").all()][1:]
    values = metric_row(page, "test_accuracy")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "compare.png"), full_page=True)
    shown = dict(zip(names, values, strict=True))
    assert set(expected) <= set(shown), shown
    for name, accuracy in expected.items():
        assert float(shown[name]) == pytest.approx(accuracy, abs=6e-4), (name, shown)  # the UI shows 3 digits
    page.close()


def test_the_registered_model_shows_the_champion_alias(queued, ui, browser):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    champion = queued["client"].get_model_version_by_alias("queue", "champion")
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(ui)
    page.get_by_role("button", name="Model training", exact=True).click()
    page.get_by_text("Model registry", exact=True).click()
    promo = page.get_by_role("dialog").filter(has_text="new Model Registry UI")  # MLflow's one-time promotion
    try:
        promo.wait_for(timeout=5000)
        page.keyboard.press("Escape")
    except PlaywrightTimeout:
        pass  # not shown this time
    page.get_by_role("link", name="queue", exact=True).click()
    page.get_by_text("@ champion").first.wait_for()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "registered_model.png"), full_page=True)
    row = page.get_by_role("row").filter(has_text="@ champion")
    assert row.count() == 1
    assert f"Version {champion.version}" in row.inner_text()
    page.close()


def test_the_experiment_opens_on_its_training_runs(queued, ui, browser):
    """`archlab ui` prints the experiment's link into the model-training workflow: MLflow 3.17's UI starts in its
    GenAI workflow whatever the experiment's kind (tagged model training here, for UIs that read it) and would
    open on "Traces 0" and "Detect issues in your traces"; the link lands on the runs table, with the columns a
    comparison reads (archlab ui stores them as a shared view of the experiment)."""
    experiment = queued["client"].get_experiment_by_name("queue")
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    printed = UI_PRINTED["path"].read_text()
    link = next(line.split(": ", 1)[1] for line in printed.splitlines() if line.startswith("training runs: "))
    assert link == (f"{ui}/#/experiments/{experiment.experiment_id}/runs?workflowType=machine_learning"
                    "&viewStateShareKey=archlab-compare")
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(link)
    page.get_by_text(re.compile(r"\d+ matching runs")).first.wait_for()
    # the count shows before the table's rows are drawn: wait for a training run's link (a timeout fails the test)
    page.get_by_role("link", name="baseline", exact=True).first.wait_for(timeout=30_000)
    for header in ("architecture", "seed", "best_val_accuracy", "train_seconds"):  # the view archlab ui stored
        page.get_by_role("columnheader").filter(has_text=header).first.wait_for(timeout=30_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "experiment.png"), full_page=True)
    assert page.get_by_text("Detect issues in your traces").count() == 0
    page.close()
