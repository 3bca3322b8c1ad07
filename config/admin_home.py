"""The officials' home page: their queues, with counts and links to the lists that show them
(each count and its list read the same rule)."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import User


@dataclass(frozen=True)
class Queue:
    label: str
    count: int
    url: str
    # Late work: shown in red when there is any.
    urgent: bool = False


def official_queues(user: User) -> list[Queue]:
    """What waits for the official, in the units they work for; only the queues of what they
    may see. One query per kind of work."""
    from digital_address.models import Household, VerificationStatus
    from digital_address.selectors import households_for_official
    from notifications.models import Broadcast
    from notifications.selectors import broadcasts_awaiting_approval
    from services.models import DossierStatus
    from services.report_selectors import report_queue_counts
    from services.selectors import dossier_queue_counts

    queues: list[Queue] = []
    if user.has_perm("services.view_dossier"):
        counts = dossier_queue_counts(official=user)
        url = reverse("admin:services_dossier_changelist")
        queues += [
            Queue(
                _("New dossiers"), counts["new"], f"{url}?status__exact={DossierStatus.SUBMITTED}"
            ),
            Queue(_("Dossiers due soon"), counts["due_soon"], f"{url}?deadline=due_soon"),
            Queue(_("Overdue dossiers"), counts["overdue"], f"{url}?deadline=overdue", True),
            Queue(_("Dossiers assigned to me"), counts["mine"], f"{url}?assigned=me_open"),
        ]
    if user.has_perm("services.view_fieldreport"):
        counts = report_queue_counts(official=user)
        url = reverse("admin:services_fieldreport_changelist")
        queues += [
            Queue(
                _("Reports awaiting acknowledgement"),
                counts["new"],
                f"{url}?status__exact=submitted",
            ),
            Queue(_("Overdue reports"), counts["overdue"], f"{url}?overdue=yes", True),
        ]
    if user.has_perm("digital_address.verify_household"):
        count = households_for_official(official=user, status=VerificationStatus.PENDING).count()
        url = reverse(f"admin:{Household._meta.app_label}_household_changelist")
        queues.append(
            Queue(
                _("Households awaiting verification"),
                count,
                f"{url}?status__exact={VerificationStatus.PENDING}&occupancy=occupied",
            )
        )
    if user.has_perm("notifications.approve_broadcast"):
        count = broadcasts_awaiting_approval(official=user).count()
        url = reverse(f"admin:{Broadcast._meta.app_label}_broadcast_changelist")
        queues.append(Queue(_("Broadcasts awaiting my approval"), count, f"{url}?approve=me", True))
    return queues
