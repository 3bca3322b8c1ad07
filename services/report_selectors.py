"""Reads of field reports: a citizen's own and followed reports, the public map, duplicates
near a place, the officials' queue."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.models import User
from accounts.selectors import official_ward_codes
from digital_address.locations import bounding_box, distance_m
from services.errors import ReportNotFound
from services.models import (
    PUBLIC_STATUSES,
    REPORT_OPEN,
    FieldReport,
    ReportCategory,
    ReportEvent,
    ReportFollower,
    ReportPhoto,
    ReportReaction,
    ReportStatus,
    report_overdue_q,
)

SIMILAR_LIMIT = 10
PUBLIC_PLACE = Decimal("0.001")


def categories_active() -> QuerySet[ReportCategory]:
    return ReportCategory.objects.active().order_by("position", "code")


def _listed(reports: QuerySet[FieldReport]) -> QuerySet[FieldReport]:
    return reports.select_related("category", "unit", "household").prefetch_related(
        Prefetch("photos", queryset=ReportPhoto.objects.order_by("id"))
    )


def _with_history(reports: QuerySet[FieldReport]) -> QuerySet[FieldReport]:
    events = ReportEvent.objects.select_related("unit", "to_unit").order_by("id")
    return _listed(reports).prefetch_related(Prefetch("events", queryset=events))


def reports_of(*, user: User, following: bool = False) -> QuerySet[FieldReport]:
    """The citizen's reports, or (``following``) the reports they follow."""
    if following:
        reports = FieldReport.objects.filter(
            pk__in=ReportFollower.objects.filter(user=user).values("report_id")
        )
    else:
        reports = FieldReport.objects.filter(reporter=user)
    return _listed(reports)


def _citizen_visible(user: User | None, *, to_follow: bool = False) -> Q:
    visible = Q(status__in=PUBLIC_STATUSES, hidden=False)
    if to_follow:
        visible |= Q(status__in=REPORT_OPEN, hidden=False)
    if user is not None and user.is_authenticated:
        follows = ReportFollower.objects.filter(report=OuterRef("pk"), user=user)
        visible |= Q(reporter=user) | Q(Exists(follows))
    return visible


def report_for_citizen(
    *, user: User | None, report_id: int, to_follow: bool = False
) -> FieldReport:
    """A report as a citizen may read it: their own, one they follow, or a public one (the
    caller shows the last two de-identified). ``to_follow``: also any open report not hidden,
    as ``reports_similar`` offers them (one still waiting for its unit included). For a
    logged-in citizen, read in the same query: ``following`` and ``my_reaction`` (their like,
    dislike, or None)."""
    reports = FieldReport.objects.filter(_citizen_visible(user, to_follow=to_follow))
    if user is not None and user.is_authenticated:
        mine = {"report": OuterRef("pk"), "user": user}
        reports = reports.annotate(
            following=Exists(ReportFollower.objects.filter(**mine)),
            my_reaction=Subquery(ReportReaction.objects.filter(**mine).values("like")[:1]),
        )
    report = _with_history(reports).filter(pk=report_id).first()
    if report is None:
        raise ReportNotFound()
    return report


def report_photo_for_citizen(*, user: User | None, report_id: int, photo_id: int) -> ReportPhoto:
    """A photo of a report the citizen may read (as ``report_for_citizen``), a hidden one only
    for the reporter: the photo and its report's row, nothing of the timeline."""
    photo = (
        ReportPhoto.objects.select_related("report")
        .filter(
            pk=photo_id,
            report_id=report_id,
            report__in=FieldReport.objects.filter(_citizen_visible(user)),
        )
        .first()
    )
    if photo is None:
        raise ReportNotFound()
    mine = user is not None and photo.report.reporter_id == user.pk
    if photo.hidden and not mine:
        raise ReportNotFound()
    return photo


def reports_public(
    *,
    bbox: tuple[float, float, float, float] | None = None,
    category: str | None = None,
    status: str | None = None,
) -> QuerySet[FieldReport]:
    """The public map: reports an official has looked at, not hidden by moderation; ``bbox`` is
    (west, south, east, north)."""
    reports = FieldReport.objects.public()
    if bbox is not None:
        west, south, east, north = bbox
        reports = reports.filter(
            latitude__gte=south, latitude__lte=north, longitude__gte=west, longitude__lte=east
        )
    if category:
        reports = reports.filter(category__code=category)
    if status:
        reports = reports.filter(status=status)
    return _listed(reports)


@dataclass(frozen=True)
class Similar:
    report: FieldReport
    distance_m: float


def reports_similar(
    *, category: ReportCategory, latitude: float, longitude: float, exclude: int | None = None
) -> list[Similar]:
    """Open reports of the category within REPORT_DUPLICATE_RADIUS_M of the place, nearest
    first: an index range scan on the box, then the exact distance."""
    radius = settings.REPORT_DUPLICATE_RADIUS_M
    min_lat, max_lat, min_lng, max_lng = bounding_box(latitude, longitude, radius)
    candidates = _listed(
        FieldReport.objects.filter(
            category=category,
            latitude__gte=min_lat,
            latitude__lte=max_lat,
            longitude__gte=min_lng,
            longitude__lte=max_lng,
            status__in=REPORT_OPEN,
            hidden=False,
        )
    )
    if exclude is not None:
        candidates = candidates.exclude(pk=exclude)
    found = []
    for report in candidates[:500]:
        d = distance_m(latitude, longitude, float(report.latitude), float(report.longitude))
        if d <= radius:
            found.append(Similar(report, d))
    found.sort(key=lambda s: (s.distance_m, s.report.pk))
    # The distance shown is to the place as the public sees it (rounded to about 100 m), in
    # tens of metres: exact distances from a few points would give the exact place away.
    return [
        Similar(item.report, _public_distance(latitude, longitude, item.report))
        for item in found[:SIMILAR_LIMIT]
    ]


def _public_distance(latitude: float, longitude: float, report: FieldReport) -> float:
    place = public_place(report.latitude, report.longitude)
    return round(distance_m(latitude, longitude, *place) / 10) * 10


def public_place(latitude: Decimal, longitude: Decimal) -> tuple[float, float]:
    """A report's place as the public sees it: rounded to 0.001° (about 110 m), enough for a
    map, not enough to point at a house."""
    return (
        float(latitude.quantize(PUBLIC_PLACE, rounding=ROUND_HALF_UP)),
        float(longitude.quantize(PUBLIC_PLACE, rounding=ROUND_HALF_UP)),
    )


def reports_for_official(
    *,
    official: User,
    status: str | None = None,
    category: str | None = None,
    overdue: bool = False,
    escalated: bool = False,
) -> QuerySet[FieldReport]:
    """The reports of the official's units (a province administrator: the province's).
    Overdue: not acknowledged by its date, or not resolved by its date."""
    reports = FieldReport.objects.in_units(official_ward_codes(user=official)).select_related(
        "category", "unit"
    )
    if status:
        reports = reports.filter(status=status)
    if category:
        reports = reports.filter(category__code=category)
    if overdue:
        reports = reports.overdue(timezone.localdate())
    if escalated:
        reports = reports.filter(escalated=True)
    return reports


def report_queue_counts(*, official: User) -> dict[str, int]:
    """The official's report queues in one query: waiting to be acknowledged, and overdue."""
    reports = FieldReport.objects.in_units(official_ward_codes(user=official))
    return reports.aggregate(
        new=Count("id", filter=Q(status=ReportStatus.SUBMITTED)),
        overdue=Count("id", filter=report_overdue_q(timezone.localdate())),
    )


def report_for_official(*, official: User, report_id: int, any_unit: bool = False) -> FieldReport:
    """A report of the official's units; ``any_unit``: wherever it is now (the answer to the
    transfer that just moved it out of them)."""
    reports = FieldReport.objects.all() if any_unit else reports_for_official(official=official)
    report = (
        _with_history(reports.select_related("category", "unit", "reporter"))
        .filter(pk=report_id)
        .first()
    )
    if report is None:
        raise ReportNotFound()
    return report


def report_photo_for_official(*, official: User, report_id: int, photo_id: int) -> ReportPhoto:
    """A photo or document of a report of the official's units, hidden or not."""
    photo = ReportPhoto.objects.filter(
        pk=photo_id, report_id=report_id, report__in=reports_for_official(official=official)
    ).first()
    if photo is None:
        raise ReportNotFound()
    return photo


def reports_export(*, user: User) -> dict:
    """The citizen's reports and what they follow, for ``me/export/``."""
    local = timezone.localtime
    mine = FieldReport.objects.filter(reporter=user).select_related("category", "unit")
    return {
        "field_reports": [
            {
                "id": report.pk,
                "category": report.category.code,
                "description": report.description,
                "anonymous": report.anonymous,
                "latitude": str(report.latitude) if report.latitude is not None else None,
                "longitude": str(report.longitude) if report.longitude is not None else None,
                "unit": report.unit_id,
                "status": report.status,
                "satisfied": report.satisfied,
                "created_at": local(report.created_at).isoformat(),
                "photos": [p.pk for p in report.photos.all()],
            }
            for report in mine.prefetch_related("photos").order_by("created_at", "id")
        ],
        "followed_reports": list(
            ReportFollower.objects.filter(user=user)
            .order_by("created_at", "id")
            .values_list("report_id", flat=True)
        ),
    }
