from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from digital_address.vietnamese_text import fold


class CalendarDay(models.Model):
    """A day the government announced differently from the rule: a weekday off (a bridge
    between a holiday and a weekend, a substitute day off) or a Saturday worked in exchange.
    Administrators enter them as the Prime Minister's or the Ministry of Home Affairs' notice
    comes out; they win over weekends and over the ``holidays`` package."""

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(
        _("working day"),
        help_text=_(
            "Ticked: a working day (a Saturday worked in exchange). Not ticked: a day off."
        ),
    )
    reason = models.CharField(_("reason"), max_length=200)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["date"]
        verbose_name = _("announced day swap")
        verbose_name_plural = _("announced day swaps")

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y}: {self.reason}"


class ProcedureLevel(models.TextChoices):
    COMMUNE = "commune", _("Commune level")
    PROVINCE = "province", _("Province level")


class OnlineLevel(models.TextChoices):
    # The national portal's two kinds of online public service (Decree 42/2022/NĐ-CP).
    FULL = "full", _("Full online service")
    PARTIAL = "partial", _("Partial online service")


class ProcessingUnit(models.TextChoices):
    WORKING_DAYS = "days", _("working days")
    WORKING_HOURS = "hours", _("working hours")


PROCEDURE_CODE = RegexValidator(
    r"^[1-9]\.[0-9]{6}$",
    _("A national procedure code looks like 1.001193."),
)


def validate_form_schema(schema: object) -> None:
    """The procedure's form is a JSON Schema object; a broken one would refuse every dossier."""
    if not isinstance(schema, dict):
        raise ValidationError(_("The form schema is a JSON object."))
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise ValidationError(
            _("This is not a valid JSON Schema: %(error)s"), params={"error": exc.message}
        ) from exc
    if schema and schema.get("type", "object") != "object":
        raise ValidationError(_("The form schema describes an object (its fields)."))


class ProcedureQuerySet(models.QuerySet):
    def active(self) -> ProcedureQuerySet:
        return self.filter(active=True)


class Procedure(models.Model):
    """An administrative procedure (thủ tục hành chính) as published in the national database."""

    code = models.CharField(
        _("national procedure code"), max_length=16, unique=True, validators=[PROCEDURE_CODE]
    )
    name = models.CharField(_("name"), max_length=500)
    field = models.CharField(_("field"), max_length=150, help_text=_("Lĩnh vực, e.g. Hộ tịch."))
    level = models.CharField(_("level"), max_length=10, choices=ProcedureLevel.choices)
    online_level = models.CharField(_("online service"), max_length=10, choices=OnlineLevel.choices)
    processing_time = models.PositiveIntegerField(
        _("processing time"),
        help_text=_("In working days (or hours, see the unit)."),
        # A deadline beyond a year of working days is a typing mistake.
        validators=[MaxValueValidator(260)],
    )
    processing_unit = models.CharField(
        _("unit"),
        max_length=5,
        choices=ProcessingUnit.choices,
        default=ProcessingUnit.WORKING_DAYS,
    )
    fee = models.DecimalField(
        _("fee (VND)"),
        max_digits=12,
        decimal_places=0,
        default=0,
        validators=[MinValueValidator(0)],
    )
    fee_note = models.CharField(_("about the fee"), max_length=500, blank=True)
    form_schema = models.JSONField(
        _("form (JSON Schema)"),
        default=dict,
        blank=True,
        validators=[validate_form_schema],
        help_text=_("What the citizen fills in, as a JSON Schema object (draft 2020-12)."),
    )
    household_required = models.BooleanField(_("needs a household"), default=False)
    active = models.BooleanField(_("active"), default=True)
    search_name = models.CharField(max_length=800, editable=False, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ProcedureQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("procedure")
        verbose_name_plural = _("procedures")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level__in=ProcedureLevel.values), name="procedure_level_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(online_level__in=OnlineLevel.values),
                name="procedure_online_level_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(processing_unit__in=ProcessingUnit.values),
                name="procedure_unit_valid",
            ),
            models.CheckConstraint(condition=models.Q(fee__gte=0), name="procedure_fee_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def save(self, *args, **kwargs) -> None:
        # Searched by name, code and field, without diacritics ("khai sinh", "ho tich").
        self.search_name = fold(f"{self.code} {self.name} {self.field}")
        super().save(*args, **kwargs)


class RequiredDocument(models.Model):
    """A paper of the procedure's dossier (thành phần hồ sơ)."""

    procedure = models.ForeignKey(
        Procedure, on_delete=models.CASCADE, related_name="documents", verbose_name=_("procedure")
    )
    name = models.CharField(_("name"), max_length=500)
    mandatory = models.BooleanField(_("mandatory"), default=True)
    template = models.FileField(
        _("template"), upload_to="procedures/templates/", blank=True, max_length=300
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["procedure_id", "position", "id"]
        verbose_name = _("required document")
        verbose_name_plural = _("required documents")

    def __str__(self) -> str:
        return self.name


class DossierStatus(models.IntegerChoices):
    """The national public-service portal's statuses; the code is what is stored and exchanged."""

    SUBMITTED = 1, _("Submitted")  # Mới đăng ký
    RECEIVED = 2, _("Received")  # Được tiếp nhận
    REFUSED = 3, _("Not received")  # Không được tiếp nhận
    PROCESSING = 4, _("Being processed")  # Đang xử lý
    SUPPLEMENT_REQUESTED = 5, _("Supplement requested")  # Yêu cầu bổ sung
    FEE_REQUESTED = 6, _("Financial obligation requested")  # Yêu cầu thực hiện nghĩa vụ tài chính
    WITHDRAWN = 7, _("Withdrawn by the citizen")  # Công dân rút
    STOPPED = 8, _("Processing stopped")  # Dừng xử lý
    DECIDED = 9, _("Processed")  # Đã xử lý xong
    RETURNED = 10, _("Result returned")  # Đã trả kết quả


S = DossierStatus
# Every allowed move, and only these; one guard (services.actions) refuses anything else.
DOSSIER_TRANSITIONS: dict[int, frozenset[int]] = {
    S.SUBMITTED: frozenset({S.RECEIVED, S.REFUSED, S.WITHDRAWN}),
    S.RECEIVED: frozenset({S.PROCESSING, S.WITHDRAWN}),
    S.PROCESSING: frozenset(
        {S.SUPPLEMENT_REQUESTED, S.FEE_REQUESTED, S.STOPPED, S.DECIDED, S.WITHDRAWN}
    ),
    S.SUPPLEMENT_REQUESTED: frozenset({S.PROCESSING, S.WITHDRAWN, S.STOPPED}),
    S.FEE_REQUESTED: frozenset({S.PROCESSING, S.WITHDRAWN, S.STOPPED}),
    S.DECIDED: frozenset({S.RETURNED}),
    S.REFUSED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.STOPPED: frozenset(),
    S.RETURNED: frozenset(),
}
FINAL_STATUSES = frozenset(status for status, moves in DOSSIER_TRANSITIONS.items() if not moves)
# The clock stops while the dossier waits on the citizen.
PAUSED_STATUSES = frozenset({S.SUPPLEMENT_REQUESTED, S.FEE_REQUESTED})


class Outcome(models.TextChoices):
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Channel(models.IntegerChoices):
    IN_PERSON = 1, _("In person")
    ONLINE = 2, _("Online")
    POSTAL = 3, _("Public postal service")


class DossierDaySequence(models.Model):
    """The last number of a unit's dossier codes on a day. Advanced in the submitting
    transaction, so a submission that fails gives its number back: codes have no gap."""

    ward = models.ForeignKey("digital_address.Ward", on_delete=models.CASCADE)
    day = models.DateField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ward", "day"], name="dossier_sequence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.ward_id} {self.day}: {self.last_value}"


class Dossier(models.Model):
    """A citizen's application for a procedure (hồ sơ thủ tục hành chính)."""

    code = models.CharField(_("dossier code"), max_length=48, unique=True, editable=False)
    procedure = models.ForeignKey(
        Procedure, on_delete=models.PROTECT, related_name="dossiers", verbose_name=_("procedure")
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="dossiers",
        verbose_name=_("applicant"),
    )
    unit = models.ForeignKey(
        "digital_address.Ward",
        on_delete=models.PROTECT,
        related_name="dossiers",
        verbose_name=_("receiving unit"),
    )
    household = models.ForeignKey(
        "digital_address.Household",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dossiers",
        verbose_name=_("household"),
    )
    channel = models.PositiveSmallIntegerField(
        _("channel"), choices=Channel.choices, default=Channel.ONLINE
    )
    status = models.PositiveSmallIntegerField(
        _("status"), choices=DossierStatus.choices, default=DossierStatus.SUBMITTED
    )
    form_data = models.JSONField(_("form"), default=dict)
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    appointment_date = models.DateField(_("appointment date"), null=True, blank=True)
    # More than one request for a supplement counts the dossier late in the KPI (QĐ 766).
    supplement_requests = models.PositiveSmallIntegerField(_("supplement requests"), default=0)
    # The financial obligation asked for (status 6): what the citizen pays.
    fee_due = models.DecimalField(
        _("amount due (VND)"), max_digits=12, decimal_places=0, null=True, blank=True
    )
    fee_requests = models.PositiveSmallIntegerField(default=0)
    outcome = models.CharField(
        _("decision"), max_length=10, choices=Outcome.choices, blank=True, default=""
    )
    # The official in charge of processing (set by the one-stop desk or the unit's leader).
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_dossiers",
        verbose_name=_("assigned to"),
    )
    # Apology letters with a new appointment (Mẫu 04): an extended dossier counts late.
    extensions = models.PositiveSmallIntegerField(_("extensions"), default=0)
    # Set at the decision (→ 9), for the KPIs: when, whether on time, and the working days
    # the unit took (waits on the citizen subtracted).
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    on_time = models.BooleanField(_("on time"), null=True, blank=True)
    working_days_taken = models.PositiveSmallIntegerField(
        _("working days taken"), null=True, blank=True
    )
    # The appointment date the due-soon and overdue warnings were sent for (sent once each;
    # a new appointment, after a wait or an extension, is warned about again).
    due_soon_warned_for = models.DateField(null=True, blank=True, editable=False)
    overdue_warned_for = models.DateField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("dossier")
        verbose_name_plural = _("dossiers")
        permissions = [
            ("receive_dossier", _("Can receive or refuse dossiers")),
            ("process_dossier", _("Can process dossiers (supplements, fees, stops)")),
            ("decide_dossier", _("Can decide dossiers")),
            ("assign_dossier", _("Can assign dossiers to officials")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=DossierStatus.values), name="dossier_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(channel__in=Channel.values), name="dossier_channel_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["applicant", "-submitted_at", "-id"], name="dossier_mine_idx"),
            models.Index(fields=["unit", "status", "-submitted_at"], name="dossier_queue_idx"),
            # The queue's first page, unfiltered, in its order (a unit's whole history is
            # otherwise read and sorted on each request).
            models.Index(fields=["unit", "-submitted_at", "-id"], name="dossier_unit_queue_idx"),
            # Overdue and due-soon filters and warnings; the KPIs over decisions.
            models.Index(fields=["status", "appointment_date"], name="dossier_due_idx"),
            models.Index(fields=["unit", "decided_at"], name="dossier_decided_idx"),
        ]

    def __str__(self) -> str:
        return self.code


class DossierEvent(models.Model):
    """The dossier's timeline: every transition, with who, a note and when."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    from_status = models.PositiveSmallIntegerField(
        _("from status"), choices=DossierStatus.choices, null=True, blank=True
    )
    to_status = models.PositiveSmallIntegerField(_("to status"), choices=DossierStatus.choices)
    note = models.CharField(_("note"), max_length=2000, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["dossier_id", "id"]
        verbose_name = _("dossier event")
        verbose_name_plural = _("dossier timeline")

    def __str__(self) -> str:
        return f"{self.dossier_id}: {self.from_status} → {self.to_status}"


class DossierWait(models.Model):
    """A time the dossier waited on the citizen (statuses 5 and 6): the clock stops."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="waits")
    status = models.PositiveSmallIntegerField(choices=DossierStatus.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["dossier_id", "started_at", "id"]

    def __str__(self) -> str:
        return f"{self.dossier_id}: {self.status} {self.started_at:%Y-%m-%d}"


class AttachmentKind(models.TextChoices):
    CITIZEN = "citizen", _("Paper of the dossier")
    RESULT = "result", _("Result document")


class DossierAttachment(models.Model):
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(_("kind"), max_length=10, choices=AttachmentKind.choices)
    # Stored under a name the server chose (services.attachments): nothing of the uploader's
    # file name reaches the disk.
    file = models.FileField(upload_to="dossiers/", max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=50)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["dossier_id", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.original_name


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Being paid")
    PAID = "paid", _("Paid")


class PaymentReceipt(models.Model):
    """A payment of a dossier's financial obligation. Written (pending) before the provider is
    asked, so no charge goes unrecorded; paid when the provider confirms; applied when the
    dossier moved on (a payment confirmed after the dossier was stopped or withdrawn stays
    unapplied: a case for reconciliation and refund)."""

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="receipts")
    # One per fee request: the provider is asked with it, so a retry is not charged twice.
    reference = models.CharField(max_length=64, unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=0)
    provider = models.CharField(max_length=32)
    status = models.CharField(
        max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    transaction_id = models.CharField(max_length=100, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["dossier_id", "created_at"]
        verbose_name = _("payment receipt")
        verbose_name_plural = _("payment receipts")

    def __str__(self) -> str:
        return self.reference


class SubmissionKey(models.Model):
    """An ``Idempotency-Key`` of a submission: the same key and body answer the same dossier."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="submission_key_unique")
        ]

    def __str__(self) -> str:
        return self.key


class DossierExtension(models.Model):
    """An apology letter with a new appointment date (Phiếu xin lỗi và hẹn lại ngày trả kết quả,
    Mẫu 04 of Thông tư 01/2018/TT-VPCP)."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="extension_letters")
    previous_date = models.DateField(_("previous appointment"))
    new_date = models.DateField(_("new appointment"))
    reason = models.CharField(_("reason"), max_length=2000)
    official = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("official"),
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["dossier_id", "id"]
        verbose_name = _("apology letter (extension)")
        verbose_name_plural = _("apology letters (extensions)")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(new_date__gt=models.F("previous_date")),
                name="extension_moves_later",
            )
        ]

    def __str__(self) -> str:
        return f"{self.dossier_id}: {self.previous_date} → {self.new_date}"


# One or two stars: the citizen was not satisfied (a dislike in the satisfaction KPI).
DISLIKE_MAX_STARS = 2


class DossierRating(models.Model):
    """The citizen's rating of a returned dossier (status 10): once, 1–5 stars."""

    dossier = models.OneToOneField(Dossier, on_delete=models.CASCADE, related_name="rating")
    stars = models.PositiveSmallIntegerField(_("stars"))
    comment = models.CharField(_("comment"), max_length=1000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(stars__gte=1, stars__lte=5), name="rating_stars_range"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dossier_id}: {self.stars}"

    @property
    def dislike(self) -> bool:
        return self.stars <= DISLIKE_MAX_STARS
