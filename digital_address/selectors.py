from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.selectors import official_ward_codes
from digital_address import address_codes
from digital_address.errors import HouseholdNotFound
from digital_address.locations import (
    PLUS_CODE_MIN_LOOKUP,
    bounding_box,
    distance_m,
    normalize_plus_code,
)
from digital_address.models import (
    ExternalAddressCode,
    Household,
    HouseholdEvent,
    HouseholdInvitation,
    HouseholdMember,
    InvitationStatus,
    VerificationStatus,
    Ward,
)
from digital_address.vietnamese_text import fold


def ward_search(*, province_code: int | None, query: str | None) -> QuerySet[Ward]:
    wards = Ward.objects.all()
    if province_code is not None:
        wards = wards.filter(province_id=province_code)
    # No NUL reaches the database (PostgreSQL refuses it in text: a 500 otherwise).
    for word in fold((query or "").replace("\x00", "")).split():
        wards = wards.filter(search_name__contains=word)
    return wards.order_by("code")


def _with_detail(households: QuerySet[Household]) -> QuerySet[Household]:
    return households.select_related("ward", "ward__province").prefetch_related(
        Prefetch(
            "members",
            queryset=HouseholdMember.objects.filter(ended_at__isnull=True).order_by("id"),
            to_attr="current_members",
        ),
        "external_codes",
        Prefetch(
            "events",
            queryset=HouseholdEvent.objects.select_related("actor").order_by("id"),
        ),
        Prefetch(
            "invitations",
            queryset=HouseholdInvitation.objects.filter(
                status=InvitationStatus.PENDING, expires_at__gt=timezone.now()
            ).order_by("id"),
            to_attr="pending_invitations",
        ),
    )


def households_of(*, user: User) -> QuerySet[Household]:
    """The household a citizen lives in (at most one)."""
    return _with_detail(
        Household.objects.filter(members__user=user, members__ended_at__isnull=True)
    )


def household_of(*, user: User, household_id: int) -> Household:
    household = households_of(user=user).filter(pk=household_id).first()
    if household is None:
        raise HouseholdNotFound()
    return household


def households_for_official(
    *, official: User, status: str | None = None, ward_code: int | None = None
) -> QuerySet[Household]:
    households = Household.objects.in_wards(official_ward_codes(user=official))
    if status:
        # A queue of decisions: nobody to decide for in a vacated household.
        households = households.filter(status=status).occupied()
    if ward_code is not None:
        households = households.filter(ward_id=ward_code)
    return households


def household_for_official(*, official: User, household_id: int) -> Household:
    household = (
        _with_detail(households_for_official(official=official)).filter(pk=household_id).first()
    )
    if household is None:
        raise HouseholdNotFound()
    return household


def invitations_for(*, user: User) -> QuerySet[HouseholdInvitation]:
    return (
        HouseholdInvitation.objects.filter(
            phone=user.phone, status=InvitationStatus.PENDING, expires_at__gt=timezone.now()
        )
        .select_related("household__ward", "invited_by")
        .order_by("-id")
    )


# Where a location code matches several households (a family moved out, another moved in), the
# one living there now.
_LIVING_FIRST = (F("vacated_at").desc(nulls_first=True), "id")


def address_resolve(*, code: str, scheme: str | None = None) -> Household:
    """Any code of a household: the native code (with or without separators; a wrong check
    digit is its own error), the plus code, or an external code."""
    households = Household.objects.select_related("ward", "ward__province").exclude(
        status=VerificationStatus.REJECTED
    )
    text = code.strip()
    if "\x00" in text:  # no code has one, and PostgreSQL refuses it in a query
        raise HouseholdNotFound()
    if scheme is None and address_codes.looks_native(text):
        bare = address_codes.strip_separators(text)
        if address_codes.damm_valid(bare):
            found = households.filter(code=bare).first()
            if found is not None:
                return found
        # A national code may happen to be 11 digits too: look there before saying the check
        # digit is wrong.
        external = _external(households, bare, None)
        if external is not None:
            return external
        address_codes.parse(bare)  # raises WrongCheckDigit when that is the problem
        raise HouseholdNotFound()
    plus_code = normalize_plus_code(text) if scheme is None else None
    if plus_code is not None:
        # Stored with 11 characters; maps show 10 (a cell of about 14 m), which contains it.
        found = (
            households.filter(plus_code__startswith=plus_code).order_by(*_LIVING_FIRST).first()
            if len(plus_code) >= PLUS_CODE_MIN_LOOKUP
            else None
        )
        if found is not None:
            return found
    external = _external(households, address_codes.normalize_external_code(text), scheme)
    if external is None:
        raise HouseholdNotFound()
    return external


def _external(households: QuerySet[Household], code: str, scheme: str | None) -> Household | None:
    links = ExternalAddressCode.objects.filter(code=code)
    if scheme:
        links = links.filter(scheme=scheme)
    return households.filter(pk__in=links.values("household_id")).order_by(*_LIVING_FIRST).first()


@dataclass(frozen=True)
class Nearby:
    household: Household
    distance_m: float


def households_nearby(*, lat: float, lng: float, radius_m: float, limit: int) -> list[Nearby]:
    """Index range scan on the bounding box, then the exact distance in Python."""
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, radius_m)
    candidates = (
        Household.objects.filter(
            latitude__gte=min_lat,
            latitude__lte=max_lat,
            longitude__gte=min_lng,
            longitude__lte=max_lng,
        )
        .exclude(status=VerificationStatus.REJECTED)
        .occupied()
        .select_related("ward", "ward__province")
    )
    found = []
    for household in candidates.iterator(chunk_size=500):
        d = distance_m(lat, lng, float(household.latitude), float(household.longitude))
        if d <= radius_m:
            found.append(Nearby(household, d))
    found.sort(key=lambda n: (n.distance_m, n.household.pk))
    return found[:limit]


@dataclass(frozen=True)
class Coverage:
    ward_code: int | None
    ward_name: str
    estimated_households: int | None
    registered: int
    verified: int
    with_digital_address: int

    @property
    def percent(self) -> float | None:
        """Share of the estimated households that have a digital address."""
        if not self.estimated_households:
            return None
        return round(100 * self.with_digital_address / self.estimated_households, 1)

    @property
    def verified_percent(self) -> float | None:
        if not self.estimated_households:
            return None
        return round(100 * self.verified / self.estimated_households, 1)


def coverage(*, wards: QuerySet[Ward]) -> tuple[list[Coverage], Coverage]:
    """Per ward and in total: households registered (not rejected), verified, and with a
    digital address (verified and located on the map, so the code leads to a point)."""
    # Vacated households were homes once: coverage counts where people live now.
    occupied = Q(households__vacated_at__isnull=True)
    live = ~Q(households__status=VerificationStatus.REJECTED) & occupied
    verified = Q(households__status=VerificationStatus.VERIFIED) & occupied
    rows = (
        wards.order_by("code")
        .values("code", "name", "estimated_households")
        .annotate(
            registered=Count("households", filter=live & Q(households__isnull=False)),
            verified=Count("households", filter=verified),
            with_address=Count(
                "households", filter=verified & Q(households__latitude__isnull=False)
            ),
        )
    )
    per_ward = [
        Coverage(
            ward_code=r["code"],
            ward_name=r["name"],
            estimated_households=r["estimated_households"],
            registered=r["registered"],
            verified=r["verified"],
            with_digital_address=r["with_address"],
        )
        for r in rows
    ]
    estimated = [c.estimated_households for c in per_ward]
    total = Coverage(
        ward_code=None,
        ward_name="",
        estimated_households=sum(e for e in estimated if e) if all(estimated) else None,
        registered=sum(c.registered for c in per_ward),
        verified=sum(c.verified for c in per_ward),
        with_digital_address=sum(c.with_digital_address for c in per_ward),
    )
    return per_ward, total


def _local_iso(value) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def household_export(*, user: User) -> dict:
    """The citizen's part of a personal-data export: where they live and lived, invitations."""
    memberships = (
        HouseholdMember.objects.filter(user=user)
        .select_related("household__ward")
        .order_by("joined_at", "id")
    )
    return {
        "memberships": [
            {
                "household_code": m.household.formatted_code,
                "ward": m.household.ward_id,
                "address_line": m.household.address_line,
                "latitude": None if m.household.latitude is None else str(m.household.latitude),
                "longitude": (
                    None if m.household.longitude is None else str(m.household.longitude)
                ),
                "relationship": m.relationship,
                "joined_at": _local_iso(m.joined_at),
                "ended_at": _local_iso(m.ended_at),
            }
            for m in memberships
        ],
        "invitations_received": [
            {
                "household_code": i.household.formatted_code,
                "relationship": i.relationship,
                "status": i.status,
                "created_at": _local_iso(i.created_at),
            }
            for i in HouseholdInvitation.objects.filter(Q(phone=user.phone) | Q(invitee=user))
            .select_related("household")
            .order_by("created_at", "id")
        ],
    }
