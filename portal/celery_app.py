"""Celery, when PORTAL_CELERY_BROKER_URL is set (Redis or RabbitMQ).

Run a worker with ``celery -A portal.worker worker`` and the schedule with ``celery -A portal.worker beat``.
Tasks run inside the Flask app context, with the same services the web requests use. Beat's schedule is
the registry in portal/scheduler.py, the same jobs the web process runs itself when there is no broker.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask


def beat_schedule() -> dict[str, dict[str, Any]]:
    """Scheduled work for Celery beat: every job of the registry, at beat's interval."""
    from portal.scheduler import scheduled_jobs

    return {job.name: {"task": job.task, "schedule": job.every.total_seconds()} for job in scheduled_jobs()}


def init_celery(app: Flask) -> Celery | None:
    broker = app.config.get("CELERY_BROKER_URL")
    if not broker:
        return None

    class AppContextTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    # Typed as a plain Celery app: what uses it needs no more than that its tasks are Tasks.
    celery: Celery = Celery("portal", broker=broker, task_cls=AppContextTask)
    celery.conf.update(
        task_acks_late=True,  # a task whose worker dies is run again; delivery is idempotent by its claims
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        beat_schedule=beat_schedule(),
        broker_connection_retry_on_startup=True,
    )
    _register_tasks(celery, app)
    app.extensions["portal_celery"] = celery
    return celery


def _register_tasks(celery: Celery, app: Flask) -> None:
    from portal.audit.services import Actor
    from portal.extensions import db
    from portal.imports.jobs import run_import_job
    from portal.notifications import delivery
    from portal.notifications.dispatch import channel_for
    from portal.scheduler import ScheduledJob, scheduled_jobs

    @celery.task(name="portal.deliver_message", shared=False)
    def deliver_message(message_id: int) -> None:
        channel = channel_for(app)
        if channel is None:
            delivery.hold(db.session, [message_id])
            return
        for claimed in delivery.claim(db.session, message_id=message_id):
            delivery.deliver_claimed(db.session, claimed, channel)
        db.scoped.remove()

    @celery.task(name="portal.run_import", shared=False)
    def run_import(job_id: int, actor_type: str | None = None, actor_id: str | None = None) -> None:
        run_import_job(job_id, Actor(type=actor_type, id=actor_id) if actor_type else None)
        db.scoped.remove()

    def scheduled(job: ScheduledJob) -> None:
        def run() -> None:
            job.run(app)
            db.scoped.remove()

        celery.task(name=job.task, shared=False)(run)

    for job in scheduled_jobs():
        scheduled(job)
