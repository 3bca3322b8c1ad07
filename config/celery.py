"""The Celery app: queues, routes, reliability defaults and the beat schedule, in one place."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class Queues:
    DEFAULT = "default"
    SMS = "sms"
    MAINTENANCE = "maintenance"

    ALL = (DEFAULT, SMS, MAINTENANCE)


app = Celery("congdanso")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_queues=[Queue(name) for name in Queues.ALL],
    task_default_queue=Queues.DEFAULT,
    task_routes={
        "notifications.send_sms": {"queue": Queues.SMS},
        "accounts.deliver_otp": {"queue": Queues.SMS},
        "accounts.sweep_undispatched_otps": {"queue": Queues.MAINTENANCE},
        "notifications.sweep_stuck_sms": {"queue": Queues.MAINTENANCE},
        "notifications.sweep_deliveries": {"queue": Queues.MAINTENANCE},
        "notifications.start_due_broadcasts": {"queue": Queues.MAINTENANCE},
        "accounts.purge_expired_otps": {"queue": Queues.MAINTENANCE},
        "accounts.purge_login_failures": {"queue": Queues.MAINTENANCE},
        "accounts.flush_expired_tokens": {"queue": Queues.MAINTENANCE},
        "services.warn_due_dossiers": {"queue": Queues.MAINTENANCE},
        "services.close_unconfirmed_reports": {"queue": Queues.MAINTENANCE},
        "assistant.rebuild_index": {"queue": Queues.MAINTENANCE},
        "assistant.sweep_channel_messages": {"queue": Queues.MAINTENANCE},
    },
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    # Our tasks are idempotent (they claim their row first), so a message is acknowledged only
    # after the task ran, and redelivered if the worker died in the middle.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    # Below NOTIFICATION_SENDING_TIMEOUT: a delivery still "sending" after it had a dead worker.
    task_time_limit=300,
    task_soft_time_limit=240,
    broker_connection_retry_on_startup=True,
    # When the broker is down, fail a publish quickly: the row is already saved and the
    # sweeper sends it later. A request must not hang on a dead broker.
    task_publish_retry_policy={
        "max_retries": 2,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.5,
    },
    worker_hijack_root_logger=False,
    timezone="Asia/Ho_Chi_Minh",
    beat_schedule={
        "sweep-stuck-sms": {
            "task": "notifications.sweep_stuck_sms",
            "schedule": 60.0,
        },
        "sweep-deliveries": {
            "task": "notifications.sweep_deliveries",
            "schedule": 30.0,
        },
        "start-due-broadcasts": {
            "task": "notifications.start_due_broadcasts",
            "schedule": 30.0,
        },
        "sweep-undispatched-otps": {
            "task": "accounts.sweep_undispatched_otps",
            "schedule": 30.0,
        },
        "purge-expired-otps": {
            "task": "accounts.purge_expired_otps",
            "schedule": crontab(minute=17, hour=3),
        },
        "purge-login-failures": {
            "task": "accounts.purge_login_failures",
            "schedule": crontab(minute=47),
        },
        "warn-due-dossiers": {
            "task": "services.warn_due_dossiers",
            "schedule": crontab(minute="*/15"),
        },
        # A fix nobody confirmed or disputed within REPORT_CONFIRM_DAYS closes.
        "close-unconfirmed-reports": {
            "task": "services.close_unconfirmed_reports",
            "schedule": crontab(minute=23),
        },
        # The catalog, the FAQ or the communes changed: the assistant's index follows.
        "refresh-assistant-index": {
            "task": "assistant.rebuild_index",
            "schedule": crontab(minute="*/10"),
        },
        # Chat-channel questions whose answer the broker lost or whose reply failed a while.
        "sweep-assistant-channel-messages": {
            "task": "assistant.sweep_channel_messages",
            "schedule": 60.0,
        },
        "flush-expired-tokens": {
            "task": "accounts.flush_expired_tokens",
            "schedule": crontab(minute=37, hour=3),
        },
    },
)
app.autodiscover_tasks()


def enqueue_on_commit(task, *args: object) -> None:
    """Publish ``task(*args)`` once the surrounding transaction commits.

    The row the task works on is already saved; if the broker is down the publish fails, is
    logged, and the periodic sweeper sends the row later. The HTTP request never fails for it.
    """
    import logging

    from django.db import transaction

    def publish() -> None:
        try:
            task.apply_async(args=args)
        except Exception:  # kombu/redis raise transport-specific errors; the sweeper recovers
            logging.getLogger(__name__).warning(
                "could not publish %s; the sweeper will retry", task.name, exc_info=True
            )

    transaction.on_commit(publish)
