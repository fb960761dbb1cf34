"""The production settings, serving the production URLs plus the baseline endpoint.

`DJANGO_SETTINGS_MODULE=bench.baseline.settings`, from the project's root (bench/load_bench.py
and bench/profile_requests.py set it); the production settings never name it.
"""

from hushmetrics.settings import *  # noqa: F403

ROOT_URLCONF = "bench.baseline.urls"
