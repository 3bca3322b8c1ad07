from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class Language(models.TextChoices):
    VI = "vi", _("Vietnamese")
    EN = "en", _("English")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, phone: str, password: str | None = None, **fields) -> User:
        user = self.model(phone=phone, **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, phone: str, password: str | None = None, **fields) -> User:
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(phone, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person: a citizen, and an official too when ``is_staff`` with an OfficialProfile."""

    phone = models.CharField(_("phone number"), max_length=32, unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True)
    national_id = models.CharField(
        _("citizen ID number"), max_length=12, null=True, blank=True, unique=True
    )
    email = models.EmailField(_("email"), blank=True)
    language = models.CharField(
        _("language"), max_length=5, choices=Language.choices, default=Language.VI
    )
    ward = models.ForeignKey(
        "digital_address.Ward",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("commune/ward of residence"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [("view_full_national_id", _("Can see unmasked citizen ID numbers"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(gender__in=["", *Gender.values]), name="user_gender_valid"
            ),
            models.CheckConstraint(
                condition=Q(language__in=Language.values), name="user_language_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or f"#{self.pk}"

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name


class OtpPurpose(models.TextChoices):
    REGISTER = "register", _("Register")
    LOGIN = "login", _("Log in")
    RESET_PASSWORD = "reset_password", _("Reset password")
    CHANGE_PHONE = "change_phone", _("Change phone number")


class OtpChallenge(models.Model):
    """One OTP request. Every accepted request writes a row, whether or not a code is texted,
    so cool-downs and caps look the same for numbers with and without an account."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    phone = models.CharField(max_length=32)
    purpose = models.CharField(max_length=20, choices=OtpPurpose.choices)
    code_hash = models.CharField(max_length=64)
    # The code, sealed, until the worker has queued its SMS (see accounts.actions.otp).
    code_sealed = models.CharField(max_length=6, blank=True)
    language = models.CharField(max_length=5, choices=Language.choices, default=Language.VI)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    requeued_at = models.DateTimeField(null=True, blank=True)
    # The client address; an IPv6 address is kept as its /64 (one subscriber's whole network),
    # so that the per-address cap cannot be dodged by walking through it.
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    checks = models.PositiveSmallIntegerField(default=0)
    failures = models.PositiveSmallIntegerField(default=0)
    consumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("OTP challenge")
        verbose_name_plural = _("OTP challenges")
        indexes = [
            models.Index(fields=["phone", "created_at"], name="otp_phone_created_idx"),
            models.Index(fields=["ip", "created_at"], name="otp_ip_created_idx"),
            models.Index(
                fields=["created_at"],
                condition=Q(dispatched_at__isnull=True),
                name="otp_undispatched_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(purpose__in=OtpPurpose.values), name="otp_purpose_valid"
            )
        ]

    def __str__(self) -> str:
        return f"OTP {self.purpose} {self.created_at:%Y-%m-%d %H:%M}"


class LoginFailure(models.Model):
    """A password check that failed (or is under way) for a number, for the login lock. The
    number is kept as a digest: this table only needs to count."""

    phone_digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("failed login")
        verbose_name_plural = _("failed logins")
        indexes = [
            models.Index(fields=["phone_digest", "created_at"], name="login_failure_phone_idx")
        ]

    def __str__(self) -> str:
        return f"{self.phone_digest[:8]}… {self.created_at:%Y-%m-%d %H:%M}"


class DevicePlatform(models.TextChoices):
    ANDROID = "android", "Android"
    IOS = "ios", "iOS"
    WEB = "web", "Web"


class Device(models.Model):
    """A push token. A token belongs to one device; registering it again moves it."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="devices")
    platform = models.CharField(_("platform"), max_length=10, choices=DevicePlatform.choices)
    # FCM tokens are ~160 characters; 1024 keeps the unique index within PostgreSQL's limit.
    token = models.CharField(_("push token"), max_length=1024, unique=True)
    app_version = models.CharField(_("app version"), max_length=32, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(platform__in=DevicePlatform.values), name="device_platform_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} #{self.pk}"


class Role(models.TextChoices):
    """Officials' roles; each is a Django group of the same label (see accounts.roles)."""

    RECEPTION = "reception", _("Reception")
    PROCESSING = "processing", _("Processing")
    APPROVAL = "approval", _("Approval")
    BROADCASTING = "broadcasting", _("Broadcasting")
    PROVINCE_ADMIN = "province_admin", _("Province administrator")


class OfficialProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="official")
    title = models.CharField(_("position"), max_length=150, blank=True)
    units = models.ManyToManyField(
        "digital_address.Ward", related_name="officials", blank=True, verbose_name=_("units")
    )
    province = models.ForeignKey(
        "digital_address.Province",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("province (for province administrators)"),
    )

    class Meta:
        verbose_name = _("official profile")
        verbose_name_plural = _("official profiles")

    def __str__(self) -> str:
        return str(self.user)


class AccessChannel(models.TextChoices):
    API = "api", _("API")
    ADMIN = "admin", _("Administration site")


class AccessPurpose(models.TextChoices):
    """Why an official read personal data. The code is stored; its label is shown in the
    reader's language (a citizen reading their log in Vietnamese sees Vietnamese)."""

    ADMIN_VIEW = "admin_view", _("Viewed in the administration site")
    HOUSEHOLD_VERIFICATION = "household_verification", _("Household verification")
    DOSSIER_PROCESSING = "dossier_processing", _("Processing of a dossier")
    EMERGENCY_RESPONSE = "emergency_response", _("Emergency response")
    REPORT_HANDLING = "report_handling", _("Handling of a field report")
    # Who sent an anonymous report: a province administrator, against abuse only.
    ABUSE_CONTROL = "abuse_control", _("Abuse control (sender of an anonymous report)")
    # Rows taken out of the system as a file (config.admin_export): more than a reading.
    EXPORT = "admin_export", _("Exported from the administration site")


class AccessResource(models.TextChoices):
    PROFILE = "profile", _("profile")
    HOUSEHOLD = "household", _("household")
    # A member without an account (a child, an imported head): no subject, ``object_id`` is
    # the digital_address.HouseholdMember.
    HOUSEHOLD_MEMBER = "household_member", _("household member")
    DOSSIER = "dossier", _("dossier")
    NOTIFICATION = "notification", _("notification")
    CHECK_IN = "check_in", _("emergency check-in")
    REPORT = "report", _("field report")


class DataAccessLog(models.Model):
    """Who read whose personal data, what, when and why (Decree 13/2023, Law 91/2025). The
    person read is ``subject`` when they have an account; otherwise ``resource`` and
    ``object_id`` name them."""

    official = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="data_reads", verbose_name=_("official")
    )
    subject = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="data_access_log",
        verbose_name=_("citizen"),
    )
    resource = models.CharField(_("data"), max_length=40, choices=AccessResource.choices)
    object_id = models.CharField(_("record"), max_length=64, blank=True)
    # Rows written before the codes hold free text: no constraint, and the display falls back
    # to the text itself (``get_purpose_display``).
    purpose = models.CharField(_("purpose"), max_length=200, choices=AccessPurpose.choices)
    channel = models.CharField(max_length=10, choices=AccessChannel.choices)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data access log")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["subject", "-created_at", "-id"], name="access_subject_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(subject__isnull=False) | ~Q(object_id=""),
                name="access_names_the_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource} {self.created_at:%Y-%m-%d %H:%M}"
