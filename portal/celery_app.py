"""Celery, when PORTAL_CELERY_BROKER_URL is set (Redis or RabbitMQ).

Run a worker with ``celery -A portal.worker worker`` and the schedule with ``celery -A portal.worker beat``.
Tasks run inside the Flask app context, with the same services the web requests use.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask

# Scheduled work; later features (dunning runs, instalment reminders) add their entries here.
BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "deliver-due-messages": {"task": "portal.deliver_due", "schedule": 60.0},
    "reconcile-payments": {"task": "portal.reconcile_payments", "schedule": 300.0},
}


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
        beat_schedule=BEAT_SCHEDULE,
        broker_connection_retry_on_startup=True,
    )
    _register_tasks(celery, app)
    app.extensions["portal_celery"] = celery
    return celery


def _register_tasks(celery: Celery, app: Flask) -> None:
    from portal.extensions import db
    from portal.notifications import delivery
    from portal.notifications.dispatch import channel_for, run_due

    @celery.task(name="portal.deliver_message")
    def deliver_message(message_id: int) -> None:
        channel = channel_for(app)
        if channel is None:
            delivery.hold(db.session, [message_id])
            return
        for claimed in delivery.claim(db.session, message_id=message_id):
            delivery.deliver_claimed(db.session, claimed, channel)
        db.scoped.remove()

    @celery.task(name="portal.deliver_due")
    def deliver_due() -> None:
        run_due(app)
        db.scoped.remove()

    @celery.task(name="portal.reconcile_payments")
    def reconcile() -> None:
        from portal.payments.jobs import reconcile_payments

        reconcile_payments(app)
