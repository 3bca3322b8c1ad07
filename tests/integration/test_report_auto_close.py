"""A fix nobody answered is closed by the periodic task on a real worker (Redis, PostgreSQL),
once however often the task is delivered."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from notifications.models import Notification
from services.models import FieldReport, ReportCategory, ReportEvent
from services.report_flow import report_accept, report_resolve, report_submit
from services.tasks import close_unconfirmed_reports
from tests.integration.conftest import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def jpeg(name: str) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 200)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def test_the_worker_closes_a_fix_nobody_answered_once(
    celery_worker, citizen, official, ward, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    report, _created = report_submit(
        reporter=citizen,
        # Transactional tests empty the tables, the migration's categories with them.
        category=ReportCategory.objects.get_or_create(
            code="lighting",
            defaults={
                "name": "Chiếu sáng công cộng",
                "name_en": "Street lighting",
                "handled_by": "Địa chính – Xây dựng",
            },
        )[0],
        description="Đèn đường hỏng.",
        photos=[jpeg("hien-truong.jpg")],
        ward_code=ward.code,
    )
    report_accept(actor=official, report=report)
    report_resolve(actor=official, report=report, note="Đã thay bóng.", files=[jpeg("xong.jpg")])
    eight_days_ago = timezone.now() - timedelta(days=8)
    FieldReport.objects.filter(pk=report.pk).update(resolved_at=eight_days_ago)

    # Delivered twice (a redelivery after a lost acknowledgement, or two beats at once).
    close_unconfirmed_reports.delay()
    close_unconfirmed_reports.delay()

    wait_until(
        lambda: FieldReport.objects.get(pk=report.pk).status == "closed", "the report to close"
    )
    wait_until(
        lambda: celery_worker.log_text().count("services.close_unconfirmed_reports") >= 4,
        "both tasks to be received and to succeed",
    )
    closing = ReportEvent.objects.filter(report=report, kind="auto_closed")
    assert list(closing.values_list("actor_role", "from_status", "to_status")) == [
        ("system", "resolved", "closed")
    ]
    assert list(
        Notification.objects.filter(user=citizen, event="report.closed").values_list(
            "key", flat=True
        )
    ) == [f"report:{report.pk}:event:{closing.get().pk}"]
