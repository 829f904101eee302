"""`archlab remote add/push/pull` on a real DVC repo in a temp folder (the end-to-end use: test_remote_state.py)."""

import configparser

from tests.dvcrepo import run


def dvc_repo(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    run(["git", "init", "-q"], repo)
    run(["dvc", "init", "-q"], repo)
    return repo


def remote_config(repo) -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(repo / ".dvc/config")
    return config


def test_a_relative_folder_becomes_the_absolute_default_remote(tmp_path):
    repo = dvc_repo(tmp_path)
    proc = run(["archlab", "remote", "add", "../store"], repo)
    config = remote_config(repo)
    assert config["core"]["remote"] == "archlab"
    assert config["'remote \"archlab\"'"]["url"] == str(tmp_path / "store")
    assert "default DVC remote archlab" in proc.stdout


def test_an_s3_remote_is_written_without_credentials(tmp_path):
    repo = dvc_repo(tmp_path)
    run(["archlab", "remote", "add", "s3://team-bucket/archlab", "--name", "team"], repo)
    config = remote_config(repo)
    assert config["core"]["remote"] == "team"
    assert dict(config["'remote \"team\"'"]) == {"url": "s3://team-bucket/archlab"}


def test_push_and_pull_without_a_remote_say_so_and_succeed(tmp_path):
    repo = dvc_repo(tmp_path)
    assert "no DVC remote configured" in run(["archlab", "remote", "push"], repo).stdout
    assert "no DVC remote configured" in run(["archlab", "remote", "pull"], repo).stdout


def test_push_to_a_folder_remote_that_cannot_be_written_fails_with_dvcs_words(tmp_path):
    repo = dvc_repo(tmp_path)
    (repo / "data.txt").write_text("x\n")
    run(["dvc", "add", "data.txt"], repo)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the remote folder should be\n")
    run(["archlab", "remote", "add", str(blocker)], repo)
    proc = run(["archlab", "remote", "push"], repo, check=False)
    assert proc.returncode == 1 and "dvc push --run-cache` exited" in proc.stderr
