"""Writes of the imagery app, by subject (Zulip's ``actions`` shape):

- ``scenes``: register a product or a folder of them, pair scenes, check a pair;
- ``jobs``: create a detection job (parameters, area), cancel it;
- ``running``: run a job (progress, cancel, failures), its output folder and scheduler;
- ``candidates``: flag candidates against the zoning rules and store a run's result;
- ``summaries``: per-grid-cell figures of a job;
- ``review``: confirm a candidate into a patrol case, or dismiss it.

The raster work is done by ``geodata.raster`` (pure, no Django); these modules open files by
path, store what it learns, and keep the database consistent. Who may do what is
``geodata.permissions``. The names below are the app's public writes, for other apps.
"""

from geodata.permissions import can_review

from .jobs import job_cancel, job_create
from .review import candidate_confirm, candidate_dismiss
from .running import job_run
from .scenes import scene_register, scenes_register_folder

__all__ = [
    "can_review",
    "candidate_confirm",
    "candidate_dismiss",
    "job_cancel",
    "job_create",
    "job_run",
    "scene_register",
    "scenes_register_folder",
]
