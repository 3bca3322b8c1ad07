from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from digital_address.address_codes import format_code
from digital_address.vietnamese_text import fold


class DivisionType(models.TextChoices):
    # Values as the vietnam-provinces package spells them.
    CITY = "thành phố trung ương", _("Centrally-run city")
    PROVINCE = "tỉnh", _("Province")
    COMMUNE = "xã", _("Commune")
    WARD = "phường", _("Ward")
    SPECIAL_ZONE = "đặc khu", _("Special zone")


class Province(models.Model):
    code = models.PositiveSmallIntegerField(_("code"), primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    division_type = models.CharField(_("type"), max_length=32, choices=DivisionType.choices)
    codename = models.CharField(max_length=100, blank=True)
    search_name = models.CharField(max_length=100, editable=False, db_index=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("province")
        verbose_name_plural = _("provinces")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.search_name = fold(self.name)
        super().save(*args, **kwargs)


class Ward(models.Model):
    """A commune-level unit (xã, phường, đặc khu): since 1 July 2025 directly under the province."""

    code = models.PositiveIntegerField(_("code"), primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    division_type = models.CharField(_("type"), max_length=32, choices=DivisionType.choices)
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="wards", verbose_name=_("province")
    )
    codename = models.CharField(max_length=100, blank=True)
    search_name = models.CharField(max_length=100, editable=False, db_index=True)
    agency_code = models.CharField(
        _("agency code"),
        max_length=32,
        # It prefixes dossier codes, which travel in URLs and are typed from paper.
        validators=[
            RegexValidator(
                r"^[A-Z0-9.]+$",
                _("Capital letters, digits and dots only (e.g. H20.6040)."),
            )
        ],
        help_text=_("Code of the receiving agency, used as the prefix of dossier codes."),
    )
    estimated_households = models.PositiveIntegerField(
        _("estimated households"), null=True, blank=True
    )
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    # The one-stop desk (bộ phận một cửa), as the assistant tells citizens.
    desk_address = models.CharField(_("one-stop desk address"), max_length=300, blank=True)
    desk_phone = models.CharField(_("one-stop desk phone"), max_length=50, blank=True)
    desk_hours = models.CharField(_("one-stop desk opening hours"), max_length=200, blank=True)

    class Meta:
        ordering = ["province_id", "code"]
        verbose_name = _("commune-level unit")
        verbose_name_plural = _("commune-level units")
        constraints = [
            models.UniqueConstraint(fields=["agency_code"], name="ward_agency_code_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.search_name = fold(self.name)
        super().save(*args, **kwargs)


def default_agency_code(ward_code: int) -> str:
    return f"{ward_code:05d}"


class WardAddressSequence(models.Model):
    """The last sequence number handed out in a ward. Only ever grows, so a native code is never
    given twice, even after its household is deleted."""

    ward = models.OneToOneField(Ward, on_delete=models.CASCADE, primary_key=True)
    last_value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.ward_id}: {self.last_value}"


class VerificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending verification")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")


# Editing a verified or rejected household's address sends it back to the ward's queue.
VERIFICATION_TRANSITIONS: dict[str, frozenset[str]] = {
    VerificationStatus.PENDING: frozenset(
        {VerificationStatus.VERIFIED, VerificationStatus.REJECTED}
    ),
    VerificationStatus.VERIFIED: frozenset({VerificationStatus.PENDING}),
    VerificationStatus.REJECTED: frozenset({VerificationStatus.PENDING}),
}


class HouseholdSource(models.TextChoices):
    APP = "app", _("Citizen app")
    IMPORT = "import", _("Import of paper records")
    MOVE = "move", _("Moved from another household")


class HouseholdQuerySet(models.QuerySet):
    def occupied(self) -> HouseholdQuerySet:
        return self.filter(vacated_at__isnull=True)

    def in_wards(self, codes: frozenset[int] | None) -> HouseholdQuerySet:
        return self if codes is None else self.filter(ward_id__in=codes)


class Household(models.Model):
    ward = models.ForeignKey(
        Ward, on_delete=models.PROTECT, related_name="households", verbose_name=_("ward")
    )
    house_number = models.CharField(_("house number"), max_length=50, blank=True)
    street = models.CharField(_("street"), max_length=150, blank=True)
    hamlet = models.CharField(
        _("hamlet / village / residential group"),
        max_length=150,
        blank=True,
        help_text=_("Thôn, bản or tổ dân phố."),
    )
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    plus_code = models.CharField(_("plus code"), max_length=16, blank=True, db_index=True)
    code = models.CharField(_("digital address code"), max_length=11, unique=True, editable=False)
    status = models.CharField(
        _("verification"),
        max_length=10,
        choices=VerificationStatus.choices,
        default=VerificationStatus.PENDING,
    )
    rejection_reason = models.CharField(_("reason for rejection"), max_length=500, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    source = models.CharField(
        _("source"), max_length=10, choices=HouseholdSource.choices, default=HouseholdSource.APP
    )
    # The paper record's number in an import: a second import of the same file skips it.
    # NULL, not "", when absent: the uniqueness per ward holds for real numbers only.
    import_ref = models.CharField(  # noqa: DJ001
        _("paper record number"), max_length=64, null=True, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    # Set when the last resident leaves: the household is history, not a home.
    vacated_at = models.DateTimeField(_("vacated"), null=True, blank=True)

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["-id"]
        permissions = [
            ("verify_household", _("Can verify or reject households and attach external codes")),
            ("import_households", _("Can import households from a CSV file")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=VerificationStatus.values),
                name="household_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True, longitude__isnull=True)
                | models.Q(latitude__isnull=False, longitude__isnull=False),
                name="household_location_both_or_none",
            ),
            models.UniqueConstraint(
                fields=["ward", "import_ref"],
                condition=models.Q(import_ref__isnull=False),
                name="household_import_ref_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["ward", "status", "id"], name="household_queue_idx"),
            # The bounding-box prefilter of nearby search.
            models.Index(fields=["latitude", "longitude"], name="household_location_idx"),
        ]

    def __str__(self) -> str:
        return format_code(self.code) if self.code else gettext("new household")

    @property
    def formatted_code(self) -> str:
        return format_code(self.code)

    @property
    def address_line(self) -> str:
        return ", ".join(p for p in (self.house_number, self.street, self.hamlet) if p)

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None


class Relationship(models.TextChoices):
    HEAD = "head", _("Head of household")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    GRANDPARENT = "grandparent", _("Grandparent")
    OTHER = "other", _("Other")


# A household has one head: the others join with one of these.
INVITABLE_RELATIONSHIPS = [c for c in Relationship.choices if c[0] != Relationship.HEAD]


class HouseholdMember(models.Model):
    """A resident. With an account (``user``) once an invitation is accepted; without one
    (children), just a name and a date of birth."""

    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="members", verbose_name=_("household")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="household_memberships",
        verbose_name=_("account"),
    )
    full_name = models.CharField(_("full name"), max_length=150)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    relationship = models.CharField(
        _("relationship to the head"), max_length=12, choices=Relationship.choices
    )
    joined_at = models.DateTimeField(_("joined"), default=timezone.now)
    ended_at = models.DateTimeField(_("left"), null=True, blank=True)
    # Needs help in an emergency whatever their age (a disability, an illness, pregnancy): the
    # household or an official flags it; rescue teams see them among the non-responders.
    # db_default: the CSV import writes members with raw SQL that names its own columns.
    needs_assistance = models.BooleanField(
        _("needs assistance in emergencies"), default=False, db_default=False
    )

    class Meta:
        verbose_name = _("household member")
        verbose_name_plural = _("household members")
        ordering = ["household_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(relationship__in=Relationship.values),
                name="member_relationship_valid",
            ),
            # A citizen lives in at most one household at a time.
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(user__isnull=False, ended_at__isnull=True),
                name="member_one_current_household",
            ),
            models.UniqueConstraint(
                fields=["household"],
                condition=models.Q(relationship="head", ended_at__isnull=True),
                name="member_one_current_head",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def is_current(self) -> bool:
        return self.ended_at is None


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


INVITATION_TRANSITIONS: dict[str, frozenset[str]] = {
    InvitationStatus.PENDING: frozenset(
        {
            InvitationStatus.ACCEPTED,
            InvitationStatus.DECLINED,
            InvitationStatus.CANCELLED,
            InvitationStatus.EXPIRED,
        }
    ),
}


class HouseholdInvitation(models.Model):
    """The head asks a citizen with an account (found by phone) to join as a member."""

    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("household")
    )
    phone = models.CharField(_("phone"), max_length=16)
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="household_invitations",
    )
    relationship = models.CharField(
        _("relationship to the head"), max_length=12, choices=Relationship.choices
    )
    status = models.CharField(
        max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    member = models.OneToOneField(
        HouseholdMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("household invitation")
        verbose_name_plural = _("household invitations")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=InvitationStatus.values),
                name="invitation_status_valid",
            ),
            models.UniqueConstraint(
                fields=["household", "phone"],
                condition=models.Q(status="pending"),
                name="invitation_one_pending_per_phone",
            ),
        ]
        indexes = [models.Index(fields=["phone", "status"], name="invitation_phone_idx")]

    def __str__(self) -> str:
        return f"{self.household} ← {self.get_relationship_display()}"


class ExternalCodeScheme(models.TextChoices):
    NATIONAL = "national", _("National digital address code")
    VPOSTCODE = "vpostcode", _("Vpostcode")
    OTHER = "other", _("Other")


class ExternalAddressCode(models.Model):
    household = models.ForeignKey(
        Household,
        on_delete=models.CASCADE,
        related_name="external_codes",
        verbose_name=_("household"),
    )
    scheme = models.CharField(_("scheme"), max_length=16, choices=ExternalCodeScheme.choices)
    code = models.CharField(_("code"), max_length=64)
    attached_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("external address code")
        verbose_name_plural = _("external address codes")
        ordering = ["household_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "code"], name="external_code_unique"),
        ]
        indexes = [models.Index(fields=["code"], name="external_code_idx")]

    def __str__(self) -> str:
        return f"{self.get_scheme_display()}: {self.code}"


class HouseholdEventKind(models.TextChoices):
    CREATED = "created", _("Registered")
    IMPORTED = "imported", _("Imported from paper records")
    ADDRESS_CHANGED = "address_changed", _("Address or location changed")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")
    RETURNED_TO_PENDING = "returned", _("Sent back for verification")
    MEMBER_ADDED = "member_added", _("Member added")
    MEMBER_INVITED = "member_invited", _("Member invited")
    MEMBER_JOINED = "member_joined", _("Member joined")
    MEMBER_LEFT = "member_left", _("Member left")
    MEMBER_UPDATED = "member_updated", _("Member details changed")
    HEAD_CHANGED = "head_changed", _("New head of household")
    VACATED = "vacated", _("Nobody lives here any more")
    EXTERNAL_CODE_ATTACHED = "external_code", _("External code attached")


class HouseholdEvent(models.Model):
    """The household's timeline: who did what, when."""

    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="events", verbose_name=_("household")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    kind = models.CharField(_("what"), max_length=20, choices=HouseholdEventKind.choices)
    # Which fields changed, the status before and after, a reason: never a phone or an ID number.
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("household event")
        verbose_name_plural = _("household timeline")
        ordering = ["household_id", "id"]
        indexes = [models.Index(fields=["household", "id"], name="household_event_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"
