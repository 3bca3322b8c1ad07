"""Households: registration, edits, members and invitations, moving, verification, codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import official_ward_codes
from config.errors import DomainError
from digital_address import address_codes
from digital_address.address_codes import normalize_external_code
from digital_address.errors import (
    AlreadyInHousehold,
    ConcurrentChange,
    ExternalCodeTaken,
    HouseholdChanged,
    HouseholdNotFound,
    InvalidLocation,
    InvalidTransition,
    InvitationUnavailable,
    NotHouseholdHead,
    WardCodesExhausted,
)
from digital_address.events import household_event
from digital_address.locations import location_errors, plus_code_for, quantize
from digital_address.models import (
    INVITATION_TRANSITIONS,
    VERIFICATION_TRANSITIONS,
    ExternalAddressCode,
    Household,
    HouseholdEventKind,
    HouseholdInvitation,
    HouseholdMember,
    HouseholdSource,
    InvitationStatus,
    Relationship,
    VerificationStatus,
    Ward,
    WardAddressSequence,
)

INVITATION_LIFETIME = timedelta(days=14)
ADDRESS_FIELDS = ("house_number", "street", "hamlet", "latitude", "longitude")


@dataclass(frozen=True)
class Address:
    house_number: str = ""
    street: str = ""
    hamlet: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None

    def cleaned(self) -> Address:
        lat = None if self.latitude is None else quantize(self.latitude)
        lng = None if self.longitude is None else quantize(self.longitude)
        errors = location_errors(lat, lng)
        if errors:
            raise InvalidLocation(next(iter(errors.values()))[0], fields=errors)
        if not any(p.strip() for p in (self.house_number, self.street, self.hamlet)):
            message = _("Give the house number, the street or the hamlet of the address.")
            # As the serializers answer invalid input: the same body for the same mistake.
            raise DomainError(_("Invalid input."), code="invalid", fields={"hamlet": [message]})
        return Address(
            house_number=self.house_number.strip(),
            street=self.street.strip(),
            hamlet=self.hamlet.strip(),
            latitude=lat,
            longitude=lng,
        )


# --- codes -------------------------------------------------------------------------------------


def ward_sequences_reserve(*, counts: dict[int, int]) -> dict[int, range]:
    """Hand out ``counts[ward]`` sequence numbers in each ward, for all the wards in one statement:
    a chunk of a provincial import touches every ward, and one call per ward was most of the time
    an import spent outside COPY. The counter rows stay locked until the caller's transaction
    ends, so concurrent registrations in a ward queue here and every number is given once; they
    are locked in ward order, so two callers cannot deadlock. A counter only grows, so codes are
    never reused. :class:`WardCodesExhausted` when a ward would run out of numbers, and then no
    counter has moved (it does not say which ward: ask them one by one)."""
    if not counts:
        return {}
    table = WardAddressSequence._meta.db_table
    ward_column = WardAddressSequence._meta.get_field("ward").column
    wards = sorted(counts)
    placeholders = ", ".join(["(%s, %s)"] * len(wards))
    # Identifiers from the model's meta, values as parameters.
    sql = (
        f"INSERT INTO {table} ({ward_column}, last_value) VALUES {placeholders}"  # noqa: S608
        f" ON CONFLICT ({ward_column}) DO UPDATE"
        f" SET last_value = {table}.last_value + excluded.last_value"
        f" RETURNING {ward_column}, last_value"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [value for ward in wards for value in (ward, counts[ward])])
        last = dict(cursor.fetchall())
        if max(last.values()) > address_codes.MAX_SEQUENCE:
            raise WardCodesExhausted()
    return {ward: range(last[ward] - counts[ward] + 1, last[ward] + 1) for ward in wards}


def ward_sequence_reserve(*, ward_id: int, count: int = 1) -> range:
    """Hand out ``count`` sequence numbers of a ward: :func:`ward_sequences_reserve` for one."""
    return ward_sequences_reserve(counts={ward_id: count})[ward_id]


# --- guards ------------------------------------------------------------------------------------


def _current_membership(user: User) -> HouseholdMember | None:
    # Not locked itself: every change to a household's members or invitations holds that
    # household's row lock (see _lock_households), so reading after that lock is enough.
    return (
        HouseholdMember.objects.filter(user=user, ended_at__isnull=True)
        .select_related("household")
        .first()
    )


def _require_head(*, actor: User, household: Household) -> None:
    is_head = household.members.filter(
        user=actor, relationship=Relationship.HEAD, ended_at__isnull=True
    ).exists()
    if not is_head:
        is_member = household.members.filter(user=actor, ended_at__isnull=True).exists()
        if not is_member:
            raise HouseholdNotFound()
        raise NotHouseholdHead()


def _require_official_of(*, actor: User, household: Household) -> None:
    codes = official_ward_codes(user=actor)
    if codes is not None and household.ward_id not in codes:
        raise HouseholdNotFound()
    if not actor.has_perm("digital_address.verify_household"):
        raise HouseholdNotFound()


def _transition(*, household: Household, to: str, actor: User | None, note: str = "") -> None:
    if to not in VERIFICATION_TRANSITIONS.get(household.status, frozenset()):
        raise InvalidTransition()
    old = household.status
    household.status = to
    kind = {
        VerificationStatus.VERIFIED: HouseholdEventKind.VERIFIED,
        VerificationStatus.REJECTED: HouseholdEventKind.REJECTED,
        VerificationStatus.PENDING: HouseholdEventKind.RETURNED_TO_PENDING,
    }[to]
    data = {"from": old, "to": to}
    if note:
        data["reason"] = note
    household_event(household=household, actor=actor, kind=kind, **data)


def _locked(household: Household) -> Household:
    return Household.objects.select_for_update(no_key=True).get(pk=household.pk)


def _lock_households(*household_ids: int | None) -> None:
    """The one lock order of the app: the acting user's row, then households by id, then what
    belongs to them (members, invitations) read under those locks. Two people joining each
    other's households at once then wait for each other instead of deadlocking.

    FOR NO KEY UPDATE, not FOR UPDATE: PostgreSQL's foreign-key checks take FOR KEY SHARE on
    the rows referenced (a user, a household), which FOR UPDATE blocks: a row updated twice in
    one transaction rechecks all its keys at commit, and two transactions each holding the
    other's user deadlocked there."""
    for household_id in sorted({i for i in household_ids if i}):
        Household.objects.select_for_update(no_key=True).filter(pk=household_id).values_list(
            "pk"
        ).first()


def _lock_user(user: User) -> None:
    User.objects.select_for_update(no_key=True).filter(pk=user.pk).values_list("pk").first()


def _current_membership_locked(user: User) -> HouseholdMember | None:
    """The user's current membership with its household locked (the user row must be locked
    already, so no other action of theirs moves them meanwhile)."""
    current = _current_membership(user)
    if current is None:
        return None
    _lock_households(current.household_id)
    fresh = _current_membership(user)
    if fresh is None or fresh.household_id != current.household_id:
        # Removed by the head in the instant between the two reads.
        raise ConcurrentChange()
    return fresh


# --- citizens ----------------------------------------------------------------------------------


def _household_insert(
    *, ward: Ward, address: Address, actor: User | None, source: str
) -> Household:
    sequence = ward_sequence_reserve(ward_id=ward.code)[0]
    household = Household(
        ward=ward,
        house_number=address.house_number,
        street=address.street,
        hamlet=address.hamlet,
        latitude=address.latitude,
        longitude=address.longitude,
        plus_code=plus_code_for(address.latitude, address.longitude),
        code=address_codes.compose(ward.code, sequence),
        source=source,
        created_by=actor,
    )
    household.full_clean(exclude=["code"], validate_constraints=False)
    household.save()
    return household


def household_create(*, actor: User, ward: Ward, address: Address) -> Household:
    """A citizen registers the household they live in and becomes its head."""
    address = address.cleaned()
    with transaction.atomic():
        _lock_user(actor)
        if _current_membership(actor) is not None:
            raise AlreadyInHousehold()
        household = _household_insert(
            ward=ward, address=address, actor=actor, source=HouseholdSource.APP
        )
        _member_insert(household=household, user=actor, relationship=Relationship.HEAD)
        household_event(household=household, actor=actor, kind=HouseholdEventKind.CREATED)
    return household


def _member_insert(
    *,
    household: Household,
    relationship: str,
    user: User | None = None,
    full_name: str = "",
    date_of_birth: date | None = None,
) -> HouseholdMember:
    member = HouseholdMember(
        household=household,
        user=user,
        full_name=(user.full_name if user else full_name) or full_name,
        date_of_birth=(user.date_of_birth if user else date_of_birth) or date_of_birth,
        relationship=relationship,
    )
    member.full_clean(exclude=["household", "user"], validate_constraints=False)
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError as exc:
        raise AlreadyInHousehold() from exc
    return member


def household_update(*, actor: User, household: Household, changes: dict[str, Any]) -> Household:
    """The head edits the address or location: ``changes`` holds only the fields sent, laid on
    the household as it is under its lock (two edits at once, the map pin and the form, both
    count). A verified (or rejected) household goes back to the ward's verification queue: the
    officials confirmed another address."""
    with transaction.atomic():
        household = _locked(household)
        _require_head(actor=actor, household=household)
        address = Address(
            **{f: changes.get(f, getattr(household, f)) for f in ADDRESS_FIELDS}
        ).cleaned()
        changed = [f for f in ADDRESS_FIELDS if getattr(household, f) != getattr(address, f)]
        if not changed:
            return household
        for field in changed:
            setattr(household, field, getattr(address, field))
        household.plus_code = plus_code_for(household.latitude, household.longitude)
        household.updated_at = timezone.now()
        household_event(
            household=household,
            actor=actor,
            kind=HouseholdEventKind.ADDRESS_CHANGED,
            fields=changed,
        )
        update_fields = [*changed, "plus_code", "updated_at"]
        if household.status != VerificationStatus.PENDING:
            _transition(household=household, to=VerificationStatus.PENDING, actor=actor)
            household.rejection_reason = ""
            update_fields += ["status", "rejection_reason"]
        household.save(update_fields=update_fields)
    return household


def member_add(
    *,
    actor: User,
    household: Household,
    full_name: str,
    date_of_birth: date | None,
    relationship: str,
) -> HouseholdMember:
    """The head adds a member without an account (a child, an elderly parent)."""
    if relationship == Relationship.HEAD:
        raise InvalidTransition(_("A household has one head."))
    with transaction.atomic():
        household = _locked(household)
        _require_head(actor=actor, household=household)
        member = _member_insert(
            household=household,
            relationship=relationship,
            full_name=full_name.strip(),
            date_of_birth=date_of_birth,
        )
        household_event(
            household=household,
            actor=actor,
            kind=HouseholdEventKind.MEMBER_ADDED,
            member=member.pk,
            relationship=relationship,
        )
    return member


def member_invite(
    *, actor: User, household: Household, phone: str, relationship: str
) -> HouseholdInvitation:
    """The head invites a citizen by phone. Whether the number has an account is not revealed:
    the invitation waits for whoever registers with it."""
    if relationship == Relationship.HEAD:
        raise InvalidTransition(_("A household has one head."))
    now = timezone.now()
    with transaction.atomic():
        household = _locked(household)
        _require_head(actor=actor, household=household)
        pending = HouseholdInvitation.objects.filter(
            household=household, phone=phone, status=InvitationStatus.PENDING
        ).first()
        if pending is not None and pending.expires_at > now:
            # Asking again is the same invitation (a retry on a weak connection), with the
            # relationship of the latest ask.
            if pending.relationship != relationship:
                pending.relationship = relationship
                pending.save(update_fields=["relationship"])
            return pending
        if pending is not None:
            _invitation_close(pending, InvitationStatus.EXPIRED, now)
        invitation = HouseholdInvitation.objects.create(
            household=household,
            phone=phone,
            invitee=User.objects.filter(phone=phone, is_active=True).first(),
            relationship=relationship,
            invited_by=actor,
            expires_at=now + INVITATION_LIFETIME,
        )
        household_event(
            household=household,
            actor=actor,
            kind=HouseholdEventKind.MEMBER_INVITED,
            invitation=invitation.pk,
            relationship=relationship,
        )
    return invitation


def _invitation_close(invitation: HouseholdInvitation, status: str, now) -> None:
    if status not in INVITATION_TRANSITIONS.get(invitation.status, frozenset()):
        raise InvitationUnavailable()
    invitation.status = status
    invitation.answered_at = now
    invitation.save(update_fields=["status", "answered_at", "member"])


def _invitation_for(actor: User, invitation_id: int) -> HouseholdInvitation:
    """An invitation to the actor's number; read again after its household is locked."""
    invitation = HouseholdInvitation.objects.filter(pk=invitation_id, phone=actor.phone).first()
    if invitation is None:
        raise HouseholdNotFound()
    return invitation


def _require_open(invitation: HouseholdInvitation) -> None:
    if invitation.status != InvitationStatus.PENDING or invitation.expires_at <= timezone.now():
        raise InvitationUnavailable()


def _membership_end(member: HouseholdMember, *, actor: User, now, **data) -> None:
    member.ended_at = now
    member.save(update_fields=["ended_at"])
    household_event(
        household=member.household,
        actor=actor,
        kind=HouseholdEventKind.MEMBER_LEFT,
        member=member.pk,
        **data,
    )


def invitation_accept(
    *,
    actor: User,
    invitation_id: int,
    leave_current: bool = False,
    new_head_member_id: int | None = None,
) -> HouseholdMember:
    """The invitee joins. Someone who lives in another household must say so explicitly
    (``leave_current``): that membership ends in the same transaction. A head leaves as when
    moving, naming the new head of those who stay (see ``_departure_plan``)."""
    now = timezone.now()
    with transaction.atomic():
        _lock_user(actor)
        invitation = _invitation_for(actor, invitation_id)
        current = _current_membership(actor)
        _lock_households(invitation.household_id, current.household_id if current else None)
        invitation.refresh_from_db()
        fresh = _current_membership(actor)
        if getattr(fresh, "household_id", None) != getattr(current, "household_id", None):
            raise ConcurrentChange()
        current = fresh
        _require_open(invitation)
        if current is not None and current.household_id == invitation.household_id:
            _invitation_close(invitation, InvitationStatus.ACCEPTED, now)
            return current
        if current is None and new_head_member_id:
            raise NotHouseholdHead()
        if current is not None and not leave_current:
            raise AlreadyInHousehold()
        household = Household.objects.get(pk=invitation.household_id)
        if household.vacated_at is not None:
            raise InvitationUnavailable()
        # Members without an account do not come along: the inviting head adds whom they
        # agree to; those who stay are headed by the member named.
        departure = _departure_plan(
            actor=actor,
            current=current,
            bring_member_ids=[],
            new_head_member_id=new_head_member_id,
            joining=True,
        )
        _departure_apply(departure, actor=actor, now=now, joined=household.pk)
        member = _member_insert(
            household=household, relationship=invitation.relationship, user=actor
        )
        invitation.member = member
        _invitation_close(invitation, InvitationStatus.ACCEPTED, now)
        household_event(
            household=household,
            actor=actor,
            kind=HouseholdEventKind.MEMBER_JOINED,
            member=member.pk,
            relationship=invitation.relationship,
        )
    return member


def invitation_decline(*, actor: User, invitation_id: int) -> None:
    with transaction.atomic():
        invitation = _invitation_for(actor, invitation_id)
        _lock_households(invitation.household_id)
        invitation.refresh_from_db()
        _require_open(invitation)
        _invitation_close(invitation, InvitationStatus.DECLINED, timezone.now())


def invitation_cancel(*, actor: User, household: Household, invitation_id: int) -> None:
    with transaction.atomic():
        household = _locked(household)
        _require_head(actor=actor, household=household)
        invitation = HouseholdInvitation.objects.filter(
            pk=invitation_id, household=household
        ).first()
        if invitation is None:
            raise HouseholdNotFound()
        _invitation_close(invitation, InvitationStatus.CANCELLED, timezone.now())


def member_remove(*, actor: User, household: Household, member_id: int) -> None:
    """The head removes a member, or a member leaves. The head leaves only by moving."""
    now = timezone.now()
    with transaction.atomic():
        household = _locked(household)
        member = _current_member(household, member_id)
        if member.user_id != actor.pk:
            _require_head(actor=actor, household=household)
        if member.relationship == Relationship.HEAD:
            raise InvalidTransition(_("The head leaves a household by moving to another address."))
        _membership_end(member, actor=actor, now=now)


MEMBER_FIELDS = ("full_name", "date_of_birth", "needs_assistance")


def _member_changes_apply(
    member: HouseholdMember, *, actor: User, changes: dict[str, Any]
) -> HouseholdMember:
    """Lays ``changes`` on a current member (under the household's lock) and tells the timeline
    which fields changed; nothing written when nothing changes."""
    changed = [f for f in MEMBER_FIELDS if f in changes and getattr(member, f) != changes[f]]
    if not changed:
        return member
    for field in changed:
        setattr(member, field, changes[field])
    member.full_clean(exclude=["household", "user"], validate_constraints=False)
    member.save(update_fields=changed)
    data: dict[str, Any] = {"member": member.pk, "fields": changed}
    if "needs_assistance" in changed:
        data["needs_assistance"] = member.needs_assistance
    household_event(
        household=member.household, actor=actor, kind=HouseholdEventKind.MEMBER_UPDATED, **data
    )
    return member


def _current_member(household: Household, member_id: int) -> HouseholdMember:
    member = household.members.filter(pk=member_id, ended_at__isnull=True).first()
    if member is None:
        raise HouseholdNotFound()
    member.household = household
    return member


def member_update(
    *, actor: User, household: Household, member_id: int, changes: dict[str, Any]
) -> HouseholdMember:
    """The head corrects a member without an account (name, date of birth) and flags who needs
    help in an emergency; a member flags themself. The name and date of birth of a member with
    an account are the account's: 400 on those fields."""
    with transaction.atomic():
        household = _locked(household)
        member = _current_member(household, member_id)
        if member.user_id != actor.pk:
            _require_head(actor=actor, household=household)
        if member.user_id is not None:
            message = _(
                "This comes from the member's own account: they change it in their profile."
            )
            refused = {f: [message] for f in ("full_name", "date_of_birth") if f in changes}
            if refused:
                raise DomainError(message, fields=refused)
        if "full_name" in changes:
            changes = {**changes, "full_name": changes["full_name"].strip()}
        return _member_changes_apply(member, actor=actor, changes=changes)


def member_assistance_set(
    *, actor: User, household: Household, member_id: int, needs_assistance: bool
) -> HouseholdMember:
    """An official of the ward flags (or clears) a member who needs help in an emergency, as
    the rescue teams found them: the broadcasts' check-in report lists them among the
    vulnerable."""
    with transaction.atomic():
        household = _locked(household)
        _require_official_of(actor=actor, household=household)
        member = _current_member(household, member_id)
        return _member_changes_apply(
            member, actor=actor, changes={"needs_assistance": needs_assistance}
        )


@dataclass
class _Departure:
    """What leaving the current household takes: who comes along, who heads those who stay."""

    current: HouseholdMember | None
    brought: list[HouseholdMember]
    successor: HouseholdMember | None


def _departure_plan(
    *,
    actor: User,
    current: HouseholdMember | None,
    bring_member_ids: list[int] | None,
    new_head_member_id: int | None,
    joining: bool = False,
) -> _Departure:
    """Checks, before anything is written, that leaving leaves nobody without a head: a head
    who leaves members with an account behind names one of them the new head; members without
    an account are not left in a household with nobody to answer for it."""
    is_head = current is not None and current.relationship == Relationship.HEAD
    if (bring_member_ids or new_head_member_id) and not is_head:
        raise NotHouseholdHead()
    if not is_head:
        return _Departure(current=current, brought=[], successor=None)
    staying = list(
        current.household.members.filter(ended_at__isnull=True)
        .exclude(pk=current.pk)
        .order_by("id")
    )
    wanted = set(bring_member_ids or [])
    brought = [m for m in staying if m.pk in wanted and m.user_id is None]
    if len(brought) != len(wanted):
        message = _("Only current members without an account can be brought along.")
        raise InvalidTransition(message, fields={"bring_members": [message]})
    left = [m for m in staying if m.pk not in wanted]
    with_account = [m for m in left if m.user_id is not None]
    successor = None
    if with_account:
        successor = next((m for m in with_account if m.pk == new_head_member_id), None)
        if successor is None:
            message = _(
                "Members with an account stay at the old address: name one of them "
                "the new head of that household."
            )
            raise InvalidTransition(message, fields={"new_head": [message]}, status_code=400)
    elif left and joining:
        message = _(
            "Members without an account cannot stay on their own: remove them from your "
            "household first; the head of the household you join can then add them."
        )
        raise InvalidTransition(message, fields={"leave_current": [message]})
    elif left:
        message = _(
            "Members without an account cannot stay on their own: bring them along, "
            "or remove them from the household first."
        )
        raise InvalidTransition(message, fields={"bring_members": [message]})
    elif new_head_member_id:
        message = _("Nobody with an account stays at the old address.")
        raise InvalidTransition(message, fields={"new_head": [message]}, status_code=400)
    return _Departure(current=current, brought=brought, successor=successor)


def _departure_apply(departure: _Departure, *, actor: User, now, **event_data) -> None:
    current = departure.current
    if current is None:
        return
    _membership_end(current, actor=actor, now=now, **event_data)
    for member in departure.brought:
        _membership_end(member, actor=actor, now=now, **event_data)
    if departure.successor is not None:
        _head_promote(departure.successor, actor=actor)
    _vacate_if_empty(current.household, actor=actor, now=now)


def _bring_along(departure: _Departure, *, household: Household) -> None:
    for member in departure.brought:
        _member_insert(
            household=household,
            relationship=member.relationship,
            full_name=member.full_name,
            date_of_birth=member.date_of_birth,
        )


def _head_promote(member: HouseholdMember, *, actor: User | None, **data) -> None:
    previous = member.relationship
    member.relationship = Relationship.HEAD
    member.save(update_fields=["relationship"])
    household_event(
        household=member.household,
        actor=actor,
        kind=HouseholdEventKind.HEAD_CHANGED,
        member=member.pk,
        previous_relationship=previous,
        **data,
    )


def _vacate_if_empty(household: Household, *, actor: User | None, now) -> None:
    """Nobody lives there any more: the household leaves the coverage counts, the verification
    queue and nearby search, and its pending invitations are cancelled. New residents register
    a household of their own (with a new code)."""
    if household.members.filter(ended_at__isnull=True).exists():
        return
    Household.objects.filter(pk=household.pk).update(vacated_at=now)
    household.vacated_at = now
    HouseholdInvitation.objects.filter(household=household, status=InvitationStatus.PENDING).update(
        status=InvitationStatus.CANCELLED, answered_at=now
    )
    household_event(household=household, actor=actor, kind=HouseholdEventKind.VACATED)


def household_move(
    *,
    actor: User,
    ward: Ward,
    address: Address,
    bring_member_ids: list[int] | None = None,
    new_head_member_id: int | None = None,
) -> Household:
    """Moving: a new household at the new address with the actor as its head; the old
    membership ends (see ``_departure_plan`` for who comes along and who heads the rest)."""
    address = address.cleaned()
    now = timezone.now()
    with transaction.atomic():
        _lock_user(actor)
        # The old household locked like every change to its members, so a member added or
        # joining meanwhile is seen by the checks below.
        current = _current_membership_locked(actor)
        departure = _departure_plan(
            actor=actor,
            current=current,
            bring_member_ids=bring_member_ids,
            new_head_member_id=new_head_member_id,
        )
        household = _household_insert(
            ward=ward, address=address, actor=actor, source=HouseholdSource.MOVE
        )
        _departure_apply(departure, actor=actor, now=now, moved_to=household.pk)
        _member_insert(household=household, user=actor, relationship=Relationship.HEAD)
        household_event(
            household=household,
            actor=actor,
            kind=HouseholdEventKind.CREATED,
            moved_from=current.household_id if current else None,
        )
        _bring_along(departure, household=household)
    return household


def household_memberships_erase(*, user: User, phone: str) -> None:
    """Erasure of an account: its memberships end and forget the name and date of birth copied
    into them; invitations to the number (or found for the account) are deleted. The household
    stays: an address is the registry's, and the other members' home. A head's place goes to
    the longest-standing member with an account; with none, the household is vacated (members
    without an account cannot stay on their own, as when a head moves). The caller holds the
    user's row lock (the app's lock order: user, then households)."""
    now = timezone.now()
    with transaction.atomic():
        _lock_households(
            *HouseholdMember.objects.filter(user=user).values_list("household_id", flat=True)
        )
        for member in HouseholdMember.objects.filter(user=user).select_related("household"):
            current = member.ended_at is None
            if current:
                member.ended_at = now
                household_event(
                    household=member.household,
                    actor=None,
                    kind=HouseholdEventKind.MEMBER_LEFT,
                    member=member.pk,
                    erased=True,
                )
            member.full_name = ""
            member.date_of_birth = None
            member.save(update_fields=["ended_at", "full_name", "date_of_birth"])
            if current and member.relationship == Relationship.HEAD:
                _head_replace_after_erasure(member.household, now=now)
            if current:
                _vacate_if_empty(member.household, actor=None, now=now)
        HouseholdInvitation.objects.filter(Q(phone=phone) | Q(invitee=user)).delete()


def _head_replace_after_erasure(household: Household, *, now) -> None:
    staying = list(household.members.filter(ended_at__isnull=True).order_by("joined_at", "id"))
    successor = next((m for m in staying if m.user_id is not None), None)
    if successor is not None:
        _head_promote(successor, actor=None, reason="erased")
        return
    for member in staying:
        _membership_end(member, actor=None, now=now, head_erased=True)


# --- officials ---------------------------------------------------------------------------------


def _require_unchanged(household: Household, seen_updated_at: datetime | None) -> None:
    """The official decides on the address they saw: if the citizen changed it meanwhile, they
    look again (optimistic concurrency on ``updated_at``)."""
    if household.vacated_at is not None:
        raise InvalidTransition(_("Nobody lives in this household any more."))
    if seen_updated_at is not None and seen_updated_at != household.updated_at:
        raise HouseholdChanged()


def household_verify(
    *, actor: User, household: Household, seen_updated_at: datetime | None = None
) -> Household:
    with transaction.atomic():
        household = _locked(household)
        _require_official_of(actor=actor, household=household)
        _require_unchanged(household, seen_updated_at)
        if household.status == VerificationStatus.VERIFIED:
            return household
        _transition(household=household, to=VerificationStatus.VERIFIED, actor=actor)
        household.rejection_reason = ""
        household.reviewed_by = actor
        household.reviewed_at = timezone.now()
        household.save(update_fields=["status", "rejection_reason", "reviewed_by", "reviewed_at"])
    return household


def household_reject(
    *,
    actor: User,
    household: Household,
    reason: str,
    seen_updated_at: datetime | None = None,
) -> Household:
    reason = reason.strip()
    if not reason:
        message = _("Give the reason for the rejection: the citizen reads it.")
        raise InvalidTransition(message, fields={"reason": [message]}, status_code=400)
    with transaction.atomic():
        household = _locked(household)
        _require_official_of(actor=actor, household=household)
        _require_unchanged(household, seen_updated_at)
        _transition(household=household, to=VerificationStatus.REJECTED, actor=actor, note=reason)
        household.rejection_reason = reason
        household.reviewed_by = actor
        household.reviewed_at = timezone.now()
        household.save(update_fields=["status", "rejection_reason", "reviewed_by", "reviewed_at"])
    return household


def external_code_attach(
    *, actor: User, household: Household, scheme: str, code: str
) -> ExternalAddressCode:
    code = normalize_external_code(code)
    if not code:
        message = _("This field may not be blank.")
        raise InvalidTransition(message, fields={"code": [message]}, status_code=400)
    with transaction.atomic():
        household = _locked(household)
        _require_official_of(actor=actor, household=household)
        existing = ExternalAddressCode.objects.filter(scheme=scheme, code=code).first()
        if existing is not None:
            if existing.household_id != household.pk:
                raise ExternalCodeTaken(fields={"code": [str(ExternalCodeTaken.default_message)]})
            return existing
        attached = ExternalAddressCode(
            household=household, scheme=scheme, code=code, attached_by=actor
        )
        attached.full_clean(exclude=["household"], validate_constraints=False)
        try:
            with transaction.atomic():
                attached.save()
        except IntegrityError as exc:  # attached to another household at the same moment
            raise ExternalCodeTaken(
                fields={"code": [str(ExternalCodeTaken.default_message)]}
            ) from exc
        household_event(
            household=household,
            actor=actor,
            kind=HouseholdEventKind.EXTERNAL_CODE_ATTACHED,
            scheme=scheme,
            code=code,
        )
    return attached
