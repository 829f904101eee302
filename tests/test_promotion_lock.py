"""The promotion lock against the real PostgreSQL on 127.0.0.1:5432: one holder at a time across sessions, the
holder named when a job gives up waiting, released when the holder's session dies, bad URIs refused by name."""

import subprocess
import sys
import textwrap

import pytest

from archlab.errors import ArchlabError, JobLocked
from archlab.promotion_lock import advisory_key, promotion_lock

PG = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def test_the_key_is_stable_and_differs_between_models():
    assert advisory_key("digits") == advisory_key("digits") != advisory_key("digits-cnn")
    assert -2**63 <= advisory_key("digits") < 2**63


def test_without_a_lock_uri_it_is_a_file_lock_on_this_machine(tmp_path, monkeypatch):
    monkeypatch.delenv("ARCHLAB_LOCK_URI", raising=False)
    with promotion_lock("digits", tmp_path) as description:
        assert "file lock" in description and "this machine only" in description
    assert (tmp_path / ".archlab/registry.lock").is_file()


def test_a_second_job_waits_then_names_the_holder(monkeypatch):
    monkeypatch.setenv("ARCHLAB_LOCK_URI", PG)
    monkeypatch.setenv("ARCHLAB_LOCK_WAIT_S", "0.5")
    with promotion_lock("lockproj", None) as description:
        assert "PostgreSQL advisory lock" in description
        holder = subprocess.run([sys.executable, "-c", textwrap.dedent("""
            from archlab.promotion_lock import promotion_lock
            with promotion_lock("lockproj", None):
                pass
            """)], capture_output=True, text=True)
        assert holder.returncode != 0
        assert "JobLocked" in holder.stderr and "archlab promotion lockproj pid" in holder.stderr
        with promotion_lock("otherproj", None):  # another registered model: another key, no wait
            pass
    with promotion_lock("lockproj", None):  # released on exit
        pass


def test_a_killed_holder_releases_the_lock(monkeypatch):
    monkeypatch.setenv("ARCHLAB_LOCK_URI", PG)
    monkeypatch.setenv("ARCHLAB_LOCK_WAIT_S", "30")
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import sys, time
        from archlab.promotion_lock import promotion_lock
        with promotion_lock("killproj", None):
            print("held", flush=True)
            time.sleep(600)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        holder.kill()  # SIGKILL: no unlock runs; the server ends the session and its locks
        holder.wait(timeout=30)
        with promotion_lock("killproj", None) as description:
            assert "killproj" in description
    finally:
        holder.kill()


@pytest.mark.parametrize("uri, expected", [
    ("mysql://root:secret@db/archlab", "expected a PostgreSQL URI"),
    ("postgresql://postgres:secret@127.0.0.1:1/archlab", "cannot connect to take the promotion lock"),
])
def test_bad_lock_uris_are_refused_by_name_without_the_password(monkeypatch, uri, expected):
    monkeypatch.setenv("ARCHLAB_LOCK_URI", uri)
    with pytest.raises(ArchlabError, match=expected) as info:
        with promotion_lock("x", None):
            pass
    assert "secret" not in str(info.value) and "ARCHLAB_LOCK_URI=" in str(info.value)
    assert not isinstance(info.value, JobLocked)
