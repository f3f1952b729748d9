"""Background jobs of the imagery app (procrastinate, autodiscovered by its Django contrib)."""

from __future__ import annotations

from procrastinate.contrib.django import app


@app.task(name="geodata.run_detection_job", queue="imagery", pass_context=False)
def run_detection_job(job_id: int) -> str:
    """Run one queued change-detection job; bad input ends it as failed with the message."""
    from .models import DetectionJob
    from .services import job_run

    job = DetectionJob.objects.filter(pk=job_id).first()
    if job is None:
        return "missing"
    return job_run(job, raise_errors=False).status
