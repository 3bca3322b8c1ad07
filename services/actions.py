"""Writes of the public-services app."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from digital_address.models import Household, Ward
from digital_address.selectors import households_of
from services.errors import IdempotencyKeyReused, InvalidForm
from services.forms_schema import form_errors
from services.models import (
    Channel,
    Dossier,
    DossierDaySequence,
    DossierEvent,
    Procedure,
    ProcedureLevel,
    RequiredDocument,
    SubmissionKey,
)
from services.workdays import LOCAL


@dataclass(frozen=True)
class CatalogLoadSummary:
    created: int
    updated: int


def procedures_load(*, entries: Iterable[dict[str, Any]]) -> CatalogLoadSummary:
    """Create or update procedures by code, with their documents (replaced). Idempotent."""
    created = updated = 0
    with transaction.atomic():
        for entry in entries:
            fields = {k: v for k, v in entry.items() if k not in {"code", "documents"}}
            procedure = Procedure.objects.filter(code=entry["code"]).first()
            if procedure is None:
                procedure = Procedure(code=entry["code"])
                created += 1
            else:
                updated += 1
            for name, value in fields.items():
                setattr(procedure, name, value)
            procedure.full_clean()
            procedure.save()
            procedure.documents.all().delete()
            RequiredDocument.objects.bulk_create(
                RequiredDocument(procedure=procedure, name=name, mandatory=mandatory, position=i)
                for i, (name, mandatory) in enumerate(entry.get("documents", []), start=1)
            )
    return CatalogLoadSummary(created=created, updated=updated)


# --- dossiers ------------------------------------------------------------------------------------


def _next_dossier_number(*, ward_id: int, day: date) -> int:
    """Advance the unit's counter for the day in the submitting transaction (the row stays
    locked until it commits; a failed submission rolls its number back: no gap, no duplicate)."""
    table = DossierDaySequence._meta.db_table
    sql = (
        f"INSERT INTO {table} (ward_id, day, last_value) VALUES (%s, %s, 1)"  # noqa: S608
        f" ON CONFLICT (ward_id, day) DO UPDATE SET last_value = {table}.last_value + 1"
        " RETURNING last_value"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [ward_id, day])
        return cursor.fetchone()[0]


def dossier_code(*, agency_code: str, day: date, number: int) -> str:
    return f"{agency_code}-{day:%y%m%d}-{number:04d}"


def _receiving_unit(
    *, applicant: User, procedure: Procedure, unit: Ward | None, household: Household | None
) -> tuple[Ward, Household | None]:
    if household is None and procedure.household_required:
        household = households_of(user=applicant).first()
        if household is None:
            message = _("This procedure needs your household: register it in the app first.")
            raise InvalidForm(fields={"household": [message]})
    if household is not None:
        return household.ward, household
    if unit is None:
        raise InvalidForm(fields={"unit": [_("Choose the commune or ward that receives it.")]})
    return unit, None


def dossier_submit(
    *,
    applicant: User,
    procedure: Procedure,
    form_data: Any,
    unit: Ward | None = None,
    household: Household | None = None,
    channel: int = Channel.ONLINE,
    idempotency_key: str | None = None,
    request_hash: str = "",
) -> tuple[Dossier, bool]:
    """A citizen submits a dossier (status 1). Returns (dossier, created): the same
    ``idempotency_key`` with the same request answers the dossier it created, a different
    request with it is refused (422)."""
    now = timezone.now()
    with transaction.atomic():
        # The applicant's row first (the app's lock order): two retries of one submission
        # queue here, and the second finds the first's key, before anything else is checked
        # (a retry answers its dossier even if the procedure was deactivated meanwhile).
        User.objects.select_for_update(no_key=True).filter(pk=applicant.pk).values_list(
            "pk"
        ).first()
        if idempotency_key:
            earlier = (
                SubmissionKey.objects.filter(user=applicant, key=idempotency_key)
                .select_related("dossier")
                .first()
            )
            if earlier is not None:
                if earlier.request_hash != request_hash:
                    raise IdempotencyKeyReused()
                return earlier.dossier, False
        if procedure.level != ProcedureLevel.COMMUNE:
            message = _("Province-level procedures cannot be submitted here yet.")
            raise InvalidForm(fields={"procedure": [message]})
        errors = form_errors(procedure.form_schema, form_data)
        if errors:
            raise InvalidForm(fields={"form_data": errors})
        ward, household = _receiving_unit(
            applicant=applicant, procedure=procedure, unit=unit, household=household
        )
        day = now.astimezone(LOCAL).date()
        number = _next_dossier_number(ward_id=ward.code, day=day)
        dossier = Dossier.objects.create(
            code=dossier_code(agency_code=ward.agency_code, day=day, number=number),
            procedure=procedure,
            applicant=applicant,
            unit=ward,
            household=household,
            channel=channel,
            form_data=form_data,
            submitted_at=now,
            updated_at=now,
        )
        DossierEvent.objects.create(
            dossier=dossier,
            actor=applicant,
            from_status=None,
            to_status=dossier.status,
            created_at=now,
        )
        if idempotency_key:
            SubmissionKey.objects.create(
                user=applicant, key=idempotency_key, request_hash=request_hash, dossier=dossier
            )
    return dossier, True
