"""A citizen's new report: where it is, which commune handles it, its photos."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from config.errors import DomainError
from digital_address.errors import HouseholdNotFound
from digital_address.locations import distance_m, location_errors, quantize
from digital_address.models import Household, Ward
from digital_address.selectors import address_resolve
from services.dossier_flow import officials_of_unit
from services.errors import InvalidForm
from services.models import (
    ActorRole,
    FieldReport,
    Open311Client,
    PhotoKind,
    ReportCategory,
    ReportEvent,
    ReportSource,
)
from services.report_flow.transitions import HANDLE, K, R, deadlines_set, photos_record
from services.report_notices import notify_unit
from services.report_photos import clean_image, photos_check, stored_files

# A place farther than this from every commune's centre is not in the province served.
MAX_CENTROID_DISTANCE_M = 30_000


@dataclass(frozen=True)
class Located:
    unit: Ward
    household: Household | None
    latitude: Decimal | None
    longitude: Decimal | None


def report_locate(
    *,
    address_code: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    ward_code: int | None = None,
) -> Located:
    """The commune-level unit of the place: the ward of the household a digital address code
    names; else the commune the citizen chose; else the commune whose centre is nearest."""
    errors = location_errors(latitude, longitude)
    if errors:
        raise InvalidForm(fields=errors)
    if latitude is not None:
        latitude, longitude = quantize(latitude), quantize(longitude)
    if address_code:
        try:
            household = address_resolve(code=address_code)
        except HouseholdNotFound:
            raise InvalidForm(
                fields={"address_code": [_("No household has this digital address code.")]}
            ) from None
        except DomainError as exc:  # a mistyped code: its own message
            raise InvalidForm(fields={"address_code": [exc.message]}) from None
        if latitude is None and household.has_location:
            latitude, longitude = household.latitude, household.longitude
        return Located(household.ward, household, latitude, longitude)
    if ward_code is not None:
        unit = Ward.objects.filter(
            code=ward_code, province_id=settings.DEPLOYMENT_PROVINCE_CODE
        ).first()
        if unit is None:
            raise InvalidForm(fields={"ward": [_("No commune-level unit has this code.")]})
        return Located(unit, None, latitude, longitude)
    if latitude is None:
        message = _("Give the place: a location on the map, or a digital address code.")
        raise InvalidForm(fields={"latitude": [message], "longitude": [message]})
    unit = _nearest_unit(float(latitude), float(longitude))
    if unit is None:
        message = _(
            "This place is not in a commune we serve: choose the commune, or give a digital "
            "address code."
        )
        raise InvalidForm(fields={"latitude": [message], "longitude": [message]})
    return Located(unit, None, latitude, longitude)


def _nearest_unit(lat: float, lng: float) -> Ward | None:
    """The commune of the deployment's province whose centre (entered by administrators) is
    nearest; None when none is within MAX_CENTROID_DISTANCE_M."""
    best: tuple[float, Ward] | None = None
    wards = Ward.objects.filter(
        province_id=settings.DEPLOYMENT_PROVINCE_CODE,
        latitude__isnull=False,
        longitude__isnull=False,
    )
    for ward in wards:
        d = distance_m(lat, lng, float(ward.latitude), float(ward.longitude))
        if d <= MAX_CENTROID_DISTANCE_M and (best is None or d < best[0]):
            best = (d, ward)
    return best[1] if best else None


def report_submit(
    *,
    reporter: User,
    category: ReportCategory,
    description: str,
    photos: list[UploadedFile],
    address_code: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    ward_code: int | None = None,
    anonymous: bool = False,
    submission_key: str = "",
    minimum_photos: int = 1,
    source: str = ReportSource.APP,
    open311_client: Open311Client | None = None,
) -> tuple[FieldReport, bool]:
    """A new report at the unit of its place, with 1–5 photos (Open311 applications: 0–5).
    Returns (report, created): the same ``submission_key`` again answers the report it made."""
    if submission_key:
        existing = FieldReport.objects.filter(
            reporter=reporter, submission_key=submission_key
        ).first()
        if existing is not None:
            return existing, False
    description = (description or "").strip()
    if not description:
        raise InvalidForm(fields={"description": [_("This field is required.")]})
    if not category.active:
        raise InvalidForm(fields={"category": [_("This category is no longer used.")]})
    if anonymous and address_code:
        message = _(
            "An anonymous report is placed on the map or in its commune: a digital address code "
            "would say who sent it."
        )
        raise InvalidForm(fields={"address_code": [message]})
    photos_check(photos, field="photos", minimum=minimum_photos)
    cleaned = [clean_image(photo, "photos") for photo in photos]
    place = report_locate(
        address_code=address_code, latitude=latitude, longitude=longitude, ward_code=ward_code
    )
    now = timezone.now()
    report = FieldReport(
        category=category,
        reporter=reporter,
        anonymous=anonymous,
        description=description,
        latitude=place.latitude,
        longitude=place.longitude,
        household=place.household,
        unit=place.unit,
        submission_key=submission_key,
        source=source,
        open311_client=open311_client,
        created_at=now,
        updated_at=now,
    )
    deadlines_set(report, now)
    try:
        with stored_files(cleaned) as names, transaction.atomic():
            report.full_clean(validate_unique=False, validate_constraints=False)
            report.save()
            photos_record(report, names, cleaned, PhotoKind.REPORT, reporter, now)
            event = ReportEvent.objects.create(
                report=report,
                kind=K.SUBMITTED,
                actor=reporter,
                actor_role=ActorRole.CITIZEN,
                to_status=R.SUBMITTED,
                unit=report.unit,
                created_at=now,
            )
            notify_unit(report, event, officials_of_unit(report.unit_id, f"services.{HANDLE}"))
    except IntegrityError:
        # The same key sent twice at once: the other request made the report.
        existing = FieldReport.objects.filter(
            reporter=reporter, submission_key=submission_key
        ).first()
        if not submission_key or existing is None:
            raise
        return existing, False
    return report, True
