"""Settings for bench/patrol_submit.py: the real settings, a baseline URL and a scratch schema.

The leading underscore keeps scripts/bench.sh from running this module as a benchmark.

The patrol tables the bench writes to are copies in the `bench_patrol` schema, found first on
the search_path, so the bench never touches the demo's cases or their append-only audit rows.
"""

from gridgov.settings import *  # noqa: F403

ROOT_URLCONF = "_patrol_urls"
DATABASES["default"].setdefault("OPTIONS", {})  # noqa: F405
DATABASES["default"]["OPTIONS"]["options"] = "-c search_path=bench_patrol,public"  # noqa: F405
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
