from __future__ import annotations

from celery import shared_task

from services.deadlines import dossiers_warn_due
from services.report_flow import reports_close_unconfirmed


@shared_task(name="services.warn_due_dossiers", acks_late=True)
def warn_due_dossiers() -> dict[str, int]:
    return dossiers_warn_due()


@shared_task(name="services.close_unconfirmed_reports", acks_late=True)
def close_unconfirmed_reports() -> int:
    return reports_close_unconfirmed()
