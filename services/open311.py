"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2): the applications' keys, and
report categories and field reports as the specification's services and service requests.

What a service request shows is what the public map shows (``reports/public/``): no reporter,
no digital address (``address_id`` stays empty: a household's code says who lives there), the
place rounded to about 100 m, personal numbers hidden in the text.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, time

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.redaction import redact_numbers
from services.models import (
    ActorRole,
    FieldReport,
    Open311Client,
    ReportCategory,
    ReportEventKind,
    ReportStatus,
)
from services.report_selectors import public_place
from services.workdays import LOCAL

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = ["text/xml", "application/json"]
# Open in the specification's sense: the unit still has to act, or the citizen to confirm.
OPEN = frozenset(
    {ReportStatus.SUBMITTED, ReportStatus.ACCEPTED, ReportStatus.IN_PROGRESS, ReportStatus.RESOLVED}
)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def open311_client_create(
    *, name: str, contact: str = "", active: bool = True
) -> tuple[Open311Client, str]:
    """A new application and its ``api_key``, returned once (only its hash is kept). Its
    account is the reporter of its requests and cannot log in."""
    key = secrets.token_urlsafe(32)
    with transaction.atomic():
        account = User.objects.create_user(
            phone=f"open311-{uuid.uuid4().hex[:16]}",
            password=None,
            full_name=f"Open311: {name}"[:150],
            is_active=False,
        )
        client = Open311Client(
            name=name,
            contact=contact,
            key_prefix=key[:8],
            key_hash=_hash(key),
            active=active,
            account=account,
        )
        client.full_clean()
        client.save()
    return client, key


def open311_client_for_key(key: str) -> Open311Client | None:
    """The active application with this key, its use recorded; None for any other key."""
    if not key or len(key) > 200:
        return None
    client = (
        Open311Client.objects.select_related("account")
        .filter(key_hash=_hash(key), active=True)
        .first()
    )
    if client is not None:
        Open311Client.objects.filter(pk=client.pk).update(last_used_at=timezone.now())
    return client


# --- representations ------------------------------------------------------------------------------


def service(category: ReportCategory) -> dict:
    """A service of the service list, its fields in the specification's order."""
    return {
        "service_code": category.code,
        "service_name": category.display_name,
        "description": category.description,
        "metadata": False,
        "type": "realtime",
        "keywords": "",
        "group": category.group,
    }


def service_definition(category: ReportCategory) -> dict:
    # No extra attributes: a report needs only the fields every request has.
    return {"service_code": category.code, "attributes": []}


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return timezone.localtime(value, LOCAL).isoformat(timespec="seconds")


def _expected(report: FieldReport) -> str | None:
    """The end of the working day the unit must act by: acknowledge while it is new, resolve
    once accepted; none once resolved or closed."""
    if report.status == ReportStatus.SUBMITTED:
        due = report.acknowledge_due
    elif report.status in (ReportStatus.ACCEPTED, ReportStatus.IN_PROGRESS):
        due = report.resolve_due
    else:
        return None
    return datetime.combine(due, time(17, 0), tzinfo=LOCAL).isoformat(timespec="seconds")


def _status_notes(report: FieldReport) -> str:
    """The status in words, and the officials' latest note (never a citizen's words)."""
    label = str(report.get_status_display())
    notes = [
        e.note
        for e in report.events.all()
        if e.actor_role == ActorRole.OFFICIAL and e.kind != ReportEventKind.MODERATED and e.note
    ]
    return f"{label}. {redact_numbers(notes[-1])}" if notes else label


def service_request(report: FieldReport, media_url: str | None) -> dict:
    """A service request, its fields in the specification's order."""
    place = public_place(report.latitude, report.longitude) if report.has_location else (None, None)
    return {
        "service_request_id": str(report.pk),
        "status": "open" if report.status in OPEN else "closed",
        "status_notes": _status_notes(report),
        "service_name": report.category.display_name,
        "service_code": report.category.code,
        "description": "" if report.text_hidden else redact_numbers(report.description),
        "agency_responsible": f"{report.unit.name} ({report.category.handled_by})",
        "service_notice": service_notice(report.category),
        "requested_datetime": _iso(report.created_at),
        "updated_datetime": _iso(report.updated_at),
        "expected_datetime": _expected(report),
        "address": report.unit.name,
        "address_id": "",
        "zipcode": "",
        "lat": place[0],
        "long": place[1],
        "media_url": media_url or "",
    }


def service_notice(category: ReportCategory) -> str:
    return _(
        "Acknowledged or refused within %(ack)d working days, resolved within %(days)d; the "
        "sender confirms the fix."
    ) % {"ack": category.acknowledge_days, "days": category.resolve_days}
