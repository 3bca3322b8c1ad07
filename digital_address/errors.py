from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from config.errors import DomainError


class HouseholdNotFound(DomainError):
    status_code = 404
    code = "not_found"
    default_message = _("Not found.")


class NotHouseholdHead(DomainError):
    status_code = 403
    code = "not_household_head"
    default_message = _("Only the head of the household can do this.")


class AlreadyInHousehold(DomainError):
    status_code = 409
    code = "already_in_household"
    default_message = _(
        "You already live in a household. To live at another address, move there: "
        "your membership of the current household then ends."
    )


class InvalidTransition(DomainError):
    status_code = 409
    code = "invalid_transition"
    default_message = _("This cannot be done in the household's current state.")


class InvitationUnavailable(DomainError):
    status_code = 409
    code = "invitation_unavailable"
    default_message = _("This invitation has already been answered, cancelled or has expired.")


class ExternalCodeTaken(DomainError):
    status_code = 409
    code = "external_code_taken"
    default_message = _("This code is already attached to another household.")


class WardCodesExhausted(DomainError):
    status_code = 409
    code = "ward_codes_exhausted"
    default_message = _("This ward has used all its address code numbers.")


class InvalidLocation(DomainError):
    code = "invalid_location"
    default_message = _("The location is not valid.")


class ImportFileInvalid(DomainError):
    code = "invalid_import_file"
    default_message = _("This file cannot be imported.")


class HouseholdChanged(DomainError):
    status_code = 409
    code = "household_changed"
    default_message = _(
        "The household was changed after you opened it: look at it again before deciding."
    )


class ConcurrentChange(DomainError):
    status_code = 409
    code = "concurrent_change"
    default_message = _("The household changed at the same moment: please try again.")
