"""Field reports (phản ánh hiện trường): what citizens report about their commune, who holds
each report, and its way to a fix the citizen confirms."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class ReportCategoryQuerySet(models.QuerySet):
    def active(self) -> ReportCategoryQuerySet:
        return self.filter(active=True)


class ReportCategory(models.Model):
    """A kind of problem (roads, lighting, waste…), with who handles it in the commune and its
    deadlines in working days. Its code is the Open311 ``service_code``."""

    code = models.CharField(
        _("code"),
        max_length=32,
        unique=True,
        validators=[
            RegexValidator(r"^[a-z0-9][a-z0-9_-]*$", _("Lower-case letters, digits, - and _."))
        ],
    )
    name = models.CharField(_("name (Vietnamese)"), max_length=150)
    name_en = models.CharField(_("name (English)"), max_length=150)
    description = models.CharField(_("description"), max_length=500, blank=True)
    group = models.CharField(_("group"), max_length=100, blank=True)
    # The commune-level unit is the one that handles field reports (since 1 July 2025 there is
    # no district level); this names the office within it the citizen is told about.
    handled_by = models.CharField(
        _("handled by"),
        max_length=200,
        help_text=_(
            "The office of the commune-level unit that handles it, e.g. Địa chính – Xây dựng."
        ),
    )
    acknowledge_days = models.PositiveSmallIntegerField(
        _("acknowledge or refuse within (working days)"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
    )
    resolve_days = models.PositiveSmallIntegerField(
        _("resolve within (working days)"),
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(260)],
    )
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    objects = ReportCategoryQuerySet.as_manager()

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("report category")
        verbose_name_plural = _("report categories")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(acknowledge_days__gte=1, resolve_days__gte=1)
                & models.Q(resolve_days__gte=models.F("acknowledge_days")),
                name="report_category_deadlines_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        """The name in the reader's language."""
        return (
            self.name_en
            if (get_language() or "vi").startswith("en") and self.name_en
            else self.name
        )


class ReportStatus(models.TextChoices):
    SUBMITTED = "submitted", pgettext_lazy("report status", "Submitted")  # Mới gửi, chờ tiếp nhận
    ACCEPTED = "accepted", pgettext_lazy("report status", "Accepted")  # Đã tiếp nhận
    REFUSED = (
        "refused",
        pgettext_lazy("report status", "Refused"),
    )  # Từ chối (không thuộc thẩm quyền)
    IN_PROGRESS = "in_progress", pgettext_lazy("report status", "In progress")  # Đang xử lý
    RESOLVED = (
        "resolved",
        pgettext_lazy("report status", "Resolved, awaiting confirmation"),
    )  # Đã xử lý, chờ xác nhận
    CLOSED = "closed", pgettext_lazy("report status", "Closed")  # Đã đóng
    CLOSED_NOT_FIXED = (
        "closed_not_fixed",
        pgettext_lazy("report status", "Closed, not fixed"),
    )  # Đóng, chưa khắc phục
    MERGED = "merged", pgettext_lazy("report status", "Merged into another report")  # Đã gộp


R = ReportStatus
# Every allowed move, and only these; one guard (services.report_flow) refuses anything else.
# A transfer is not a status: the report goes back to "submitted" at the new unit.
REPORT_TRANSITIONS: dict[str, frozenset[str]] = {
    R.SUBMITTED: frozenset({R.ACCEPTED, R.REFUSED, R.MERGED}),
    R.ACCEPTED: frozenset({R.IN_PROGRESS, R.RESOLVED, R.CLOSED_NOT_FIXED, R.MERGED}),
    R.IN_PROGRESS: frozenset({R.RESOLVED, R.CLOSED_NOT_FIXED, R.MERGED}),
    # Confirmed (or seven days of silence) closes it; a dispute reopens it.
    R.RESOLVED: frozenset({R.CLOSED, R.IN_PROGRESS}),
    R.REFUSED: frozenset(),
    R.CLOSED: frozenset(),
    R.CLOSED_NOT_FIXED: frozenset(),
    R.MERGED: frozenset(),
}
REPORT_FINAL = frozenset(status for status, moves in REPORT_TRANSITIONS.items() if not moves)
REPORT_OPEN = frozenset(REPORT_TRANSITIONS) - REPORT_FINAL
TRANSFERABLE = frozenset({R.SUBMITTED, R.ACCEPTED, R.IN_PROGRESS})
# Shown on the public map once an official has looked at it (the text was moderated then).
PUBLIC_STATUSES = frozenset({R.ACCEPTED, R.IN_PROGRESS, R.RESOLVED, R.CLOSED, R.CLOSED_NOT_FIXED})


class CloseReason(models.TextChoices):
    """Why an official closed a report without a fix."""

    NOT_FEASIBLE = "not_feasible", _("Cannot be fixed with the unit's means")
    PLANNED = "planned", _("Included in a later plan or budget")
    NO_PROBLEM = "no_problem", _("No problem found on site")
    UNREACHABLE = "unreachable", _("Not enough information, reporter unreachable")
    OTHER = "other", _("Other reason")


class ReportSource(models.TextChoices):
    APP = "app", _("Citizen app")
    OPEN311 = "open311", _("Open311 application")


# Overdue: the date of the step the report still waits for has passed (to acknowledge it while
# submitted, to resolve it while accepted or in progress). The queue's filter and each row's
# flag both read this table.
OVERDUE_AFTER: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("acknowledge_due", (R.SUBMITTED,)),
    ("resolve_due", (R.ACCEPTED, R.IN_PROGRESS)),
)


class FieldReportQuerySet(models.QuerySet):
    def in_units(self, codes: frozenset[int] | None) -> FieldReportQuerySet:
        return self if codes is None else self.filter(unit_id__in=codes)

    def public(self) -> FieldReportQuerySet:
        return self.filter(status__in=PUBLIC_STATUSES, hidden=False)

    def overdue(self, today: date) -> FieldReportQuerySet:
        return self.filter(report_overdue_q(today))


def report_overdue_q(today: date) -> models.Q:
    """``FieldReportQuerySet.overdue`` as a condition (to count with)."""
    late = models.Q()
    for due, statuses in OVERDUE_AFTER:
        late |= models.Q(status__in=statuses, **{f"{due}__lt": today})
    return late


def report_overdue(report: FieldReport, today: date | None = None) -> bool:
    """``FieldReportQuerySet.overdue`` for one report already read."""
    today = today or timezone.localdate()
    return any(
        report.status in statuses and getattr(report, due) < today
        for due, statuses in OVERDUE_AFTER
    )


class FieldReport(models.Model):
    category = models.ForeignKey(
        ReportCategory, on_delete=models.PROTECT, related_name="reports", verbose_name=_("category")
    )
    # Kept even when anonymous, for abuse control: only a province administrator may read it,
    # and that read is logged.
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="field_reports",
        verbose_name=_("reporter"),
    )
    anonymous = models.BooleanField(_("anonymous"), default=False)
    description = models.TextField(_("description"), max_length=2000)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    # The digital address the citizen located it by (not shown publicly: it may be their home).
    household = models.ForeignKey(
        "digital_address.Household",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("digital address"),
    )
    unit = models.ForeignKey(
        "digital_address.Ward",
        on_delete=models.PROTECT,
        related_name="field_reports",
        verbose_name=_("responsible unit"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ReportStatus.choices, default=ReportStatus.SUBMITTED
    )
    # Disputed by the citizen: reopened and in front of the unit's leaders.
    escalated = models.BooleanField(_("escalated"), default=False)
    received_at = models.DateTimeField(_("received by the unit"), default=timezone.now)
    acknowledge_due = models.DateField(_("acknowledge by"))
    resolve_due = models.DateField(_("resolve by"))
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_on_time = models.BooleanField(null=True, blank=True, editable=False)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_on_time = models.BooleanField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    close_reason = models.CharField(
        _("reason for closing"), max_length=20, choices=CloseReason.choices, blank=True
    )
    # The citizen's answer to the fix: confirmed (True) or disputed (False).
    satisfied = models.BooleanField(_("confirmed by the citizen"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_reports",
        verbose_name=_("merged into"),
    )
    # Moderation for the public map.
    hidden = models.BooleanField(_("hidden from the public"), default=False)
    text_hidden = models.BooleanField(_("text hidden from the public"), default=False)
    followers_count = models.PositiveIntegerField(_("followers"), default=0)
    source = models.CharField(
        _("source"), max_length=10, choices=ReportSource.choices, default=ReportSource.APP
    )
    open311_client = models.ForeignKey(
        "services.Open311Client",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name=_("Open311 application"),
    )
    # A retried submission (a weak connection) answers the same report.
    submission_key = models.CharField(max_length=100, blank=True, editable=False)
    created_at = models.DateTimeField(_("submitted"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    objects = FieldReportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("field report")
        verbose_name_plural = _("field reports")
        permissions = [
            ("handle_fieldreport", _("Can handle field reports")),
            ("moderate_fieldreport", _("Can moderate field reports for the public")),
            ("supervise_fieldreport", _("Receives disputed field reports (unit leader)")),
            ("view_reporter_identity", _("Can see who sent an anonymous report")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ReportStatus.values), name="report_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True, longitude__isnull=True)
                | models.Q(latitude__isnull=False, longitude__isnull=False),
                name="report_location_pair",
            ),
            models.CheckConstraint(
                condition=models.Q(status=ReportStatus.MERGED, merged_into__isnull=False)
                | (~models.Q(status=ReportStatus.MERGED) & models.Q(merged_into__isnull=True)),
                name="report_merged_names_target",
            ),
            models.UniqueConstraint(
                fields=["reporter", "submission_key"],
                condition=~models.Q(submission_key=""),
                name="report_submission_key_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["reporter", "-created_at", "-id"], name="report_mine_idx"),
            models.Index(fields=["unit", "status", "-created_at"], name="report_queue_idx"),
            models.Index(fields=["unit", "-created_at", "-id"], name="report_unit_queue_idx"),
            # Duplicates: same category, open, within a box around the point.
            models.Index(fields=["category", "latitude", "longitude"], name="report_near_idx"),
            models.Index(fields=["latitude", "longitude"], name="report_map_idx"),
            # The auto-close of resolved reports nobody answered.
            models.Index(fields=["status", "resolved_at"], name="report_resolved_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.category_id}"

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None


class PhotoKind(models.TextChoices):
    REPORT = "report", _("Photo of the problem")
    EVIDENCE = "evidence", _("Evidence of the fix")


class ReportPhoto(models.Model):
    """A photo of the problem (from the citizen) or a photo or document of the fix (from the
    official). Images are re-encoded on upload without their metadata (no GPS, no device)."""

    report = models.ForeignKey(FieldReport, on_delete=models.CASCADE, related_name="photos")
    kind = models.CharField(_("kind"), max_length=10, choices=PhotoKind.choices)
    file = models.FileField(upload_to="reports/", max_length=200)
    content_type = models.CharField(_("type"), max_length=50)
    size = models.PositiveIntegerField(_("size (bytes)"))
    hidden = models.BooleanField(_("hidden from the public"), default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["report_id", "id"]
        verbose_name = _("report photo")
        verbose_name_plural = _("report photos")

    def __str__(self) -> str:
        return f"{self.report_id}/{self.pk}"


class ReportEventKind(models.TextChoices):
    SUBMITTED = "submitted", pgettext_lazy("report event", "Submitted")
    ACCEPTED = "accepted", pgettext_lazy("report event", "Accepted")
    REFUSED = "refused", pgettext_lazy("report event", "Refused")
    STARTED = "started", pgettext_lazy("report event", "Work started")
    RESOLVED = "resolved", pgettext_lazy("report event", "Resolved")
    CONFIRMED = "confirmed", pgettext_lazy("report event", "Fix confirmed by the citizen")
    DISPUTED = "disputed", pgettext_lazy("report event", "Fix disputed by the citizen, reopened")
    AUTO_CLOSED = (
        "auto_closed",
        pgettext_lazy("report event", "Closed: no answer within the confirmation period"),
    )
    CLOSED_NOT_FIXED = "closed_not_fixed", pgettext_lazy("report event", "Closed, not fixed")
    TRANSFERRED = "transferred", pgettext_lazy("report event", "Transferred to another unit")
    MERGED = "merged", pgettext_lazy("report event", "Merged into another report")
    MODERATED = "moderated", pgettext_lazy("report event", "Moderated for the public")


# Who acted, as the timeline shows it (never a citizen's name: a report may be anonymous).
class ActorRole(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    OFFICIAL = "official", _("Official")
    SYSTEM = "system", _("System")


class ReportEvent(models.Model):
    """The report's timeline: every step, at which unit, by whom, why."""

    report = models.ForeignKey(FieldReport, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("event"), max_length=20, choices=ReportEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    actor_role = models.CharField(max_length=10, choices=ActorRole.choices)
    from_status = models.CharField(max_length=20, choices=ReportStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ReportStatus.choices)
    unit = models.ForeignKey(
        "digital_address.Ward", on_delete=models.PROTECT, related_name="+", verbose_name=_("unit")
    )
    # A transfer: where it went.
    to_unit = models.ForeignKey(
        "digital_address.Ward",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("to unit"),
    )
    note = models.CharField(_("note"), max_length=2000, blank=True)
    # A refusal's referral ("not our competence: contact …").
    referral = models.CharField(_("referral"), max_length=500, blank=True)
    reason = models.CharField(
        _("reason code"), max_length=20, choices=CloseReason.choices, blank=True
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["report_id", "id"]
        verbose_name = _("report event")
        verbose_name_plural = _("report timeline")

    def __str__(self) -> str:
        return f"{self.report_id}: {self.kind}"


class ReportFollower(models.Model):
    """A citizen who has the same problem ("me too"), or whose report was merged here: told of
    every step."""

    report = models.ForeignKey(FieldReport, on_delete=models.CASCADE, related_name="followers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="followed_reports"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "user"], name="report_follower_unique")
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="report_followed_idx")]

    def __str__(self) -> str:
        return f"{self.report_id}: {self.user_id}"


class ReportReaction(models.Model):
    """The reporter's or a follower's like or dislike of how a report was handled, once it was
    resolved or closed: part of the unit's satisfaction KPI."""

    report = models.ForeignKey(FieldReport, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_reactions"
    )
    like = models.BooleanField(_("like"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("reaction")
        verbose_name_plural = _("reactions")
        constraints = [
            models.UniqueConstraint(fields=["report", "user"], name="report_reaction_unique")
        ]

    def __str__(self) -> str:
        return f"{self.report_id}: {'+' if self.like else '-'}"
