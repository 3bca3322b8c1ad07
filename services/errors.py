from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from config.errors import DomainError


class ProcedureNotFound(DomainError):
    status_code = 404
    code = "not_found"
    default_message = _("Not found.")


class DossierNotFound(ProcedureNotFound):
    pass


class InvalidForm(DomainError):
    code = "invalid"
    default_message = _("Invalid input.")


class IdempotencyKeyReused(DomainError):
    status_code = 422
    code = "idempotency_key_reused"
    default_message = _(
        "This Idempotency-Key was already used for a different submission: use a new key for "
        "a new dossier."
    )


class DossierTransitionRefused(DomainError):
    status_code = 409
    code = "invalid_transition"
    default_message = _("This cannot be done in the dossier's current status.")


class PaymentRefused(DomainError):
    status_code = 409
    code = "payment_unavailable"
    default_message = _(
        "Online payment is not available now: pay at the one-stop desk of the receiving unit."
    )


class ReportNotFound(ProcedureNotFound):
    pass


class ReportTransitionRefused(DomainError):
    status_code = 409
    code = "invalid_transition"
    default_message = _("This cannot be done in the report's current status.")


class ConfirmationPeriodOver(DomainError):
    status_code = 409
    code = "confirmation_period_over"
    default_message = _("The time to confirm or dispute this fix is over.")


class ReactionRefused(DomainError):
    status_code = 409
    code = "reaction_refused"
    default_message = _(
        "Only the reporter and the citizens who followed the report before it was fixed may "
        "rate the fix."
    )
