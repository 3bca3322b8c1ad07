"""Household timeline events told in words, for officials and citizens (the ``data`` of an event
holds codes and ids)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from digital_address.models import (
    ExternalCodeScheme,
    Household,
    HouseholdEvent,
    HouseholdMember,
    Relationship,
    VerificationStatus,
)

_FIELD_LABELS = {
    "house_number": Household._meta.get_field("house_number").verbose_name,
    "street": Household._meta.get_field("street").verbose_name,
    "hamlet": Household._meta.get_field("hamlet").verbose_name,
    "latitude": Household._meta.get_field("latitude").verbose_name,
    "longitude": Household._meta.get_field("longitude").verbose_name,
    "full_name": HouseholdMember._meta.get_field("full_name").verbose_name,
    "date_of_birth": HouseholdMember._meta.get_field("date_of_birth").verbose_name,
    "needs_assistance": HouseholdMember._meta.get_field("needs_assistance").verbose_name,
}


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def event_summary(event: HouseholdEvent) -> str:
    """One line: what changed, with statuses, relationships and fields by their names."""
    data = event.data or {}
    parts: list[str] = []
    if "from" in data and "to" in data:
        parts.append(
            _("%(old)s → %(new)s")
            % {
                "old": _label(VerificationStatus, data["from"]),
                "new": _label(VerificationStatus, data["to"]),
            }
        )
    if data.get("fields"):
        names = ", ".join(str(_FIELD_LABELS.get(f, f)) for f in data["fields"])
        parts.append(_("changed: %(fields)s") % {"fields": names})
    if "needs_assistance" in data:
        parts.append(
            _("flagged as needing assistance in emergencies")
            if data["needs_assistance"]
            else _("no longer flagged as needing assistance")
        )
    if data.get("reason") and data["reason"] != "erased":
        parts.append(_("reason: %(reason)s") % {"reason": data["reason"]})
    for key in ("relationship", "previous_relationship"):
        if data.get(key):
            parts.append(_label(Relationship, data[key]))
    if data.get("scheme"):
        parts.append(f"{_label(ExternalCodeScheme, data['scheme'])}: {data.get('code', '')}")
    if data.get("import_ref"):
        parts.append(_("paper record %(ref)s") % {"ref": data["import_ref"]})
    if data.get("erased") or data.get("reason") == "erased":
        parts.append(_("account erased"))
    for key, text in (
        ("moved_to", _("moved to household no. %(id)s")),
        ("moved_from", _("moved from household no. %(id)s")),
        ("joined", _("joined household no. %(id)s")),
    ):
        if data.get(key):
            parts.append(text % {"id": data[key]})
    return "; ".join(parts)
