"""Background jobs of the imagery app (procrastinate, autodiscovered by its Django contrib)."""

from __future__ import annotations

from procrastinate.contrib.django import app

from .models import DetectionJob
from .services.jobs import RUN_TASK
from .services.running import job_run


@app.task(name=RUN_TASK, queue="imagery", pass_context=False)
def run_detection_job(job_id: int) -> str:
    """Run one queued change-detection job; bad input ends it as failed with the message."""
    job = DetectionJob.objects.filter(pk=job_id).first()
    if job is None:
        return "missing"
    return job_run(job, raise_errors=False).status
