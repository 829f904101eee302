"""archlab's benchmark suite (`make bench`): a script, not tests. See bench/run.py."""
