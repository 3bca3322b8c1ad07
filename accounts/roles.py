"""Officials' roles as Django groups, with the permissions each role grants."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

from accounts.models import Role

# Group names are what administrators see in the admin.
ROLE_GROUPS: dict[str, str] = {
    Role.RECEPTION: "Cán bộ tiếp nhận",
    Role.PROCESSING: "Cán bộ xử lý",
    Role.APPROVAL: "Lãnh đạo phê duyệt",
    Role.BROADCASTING: "Cán bộ phát thông báo",
    Role.PROVINCE_ADMIN: "Quản trị cấp tỉnh",
}

_DESK = [
    "accounts.view_user",
    "services.view_procedure",
    "digital_address.view_ward",
    "digital_address.view_province",
    "digital_address.view_household",
]
# Verifying households and attaching external codes is the one-stop desk's and the processing
# officials' work; their leaders too.
_HOUSEHOLDS = [*_DESK, "digital_address.verify_household", "digital_address.import_households"]
# Dossiers: the one-stop desk receives or refuses; processing officials ask for supplements.
_RECEPTION = [
    *_HOUSEHOLDS,
    "services.view_dossier",
    "services.receive_dossier",
    "services.assign_dossier",
]
_PROCESSING = [*_HOUSEHOLDS, "services.view_dossier", "services.process_dossier"]
# Field reports: the desk and the processing officials acknowledge, transfer and resolve them;
# the desk also moderates what the public map shows.
_REPORTS = ["services.view_fieldreport", "services.handle_fieldreport"]
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.RECEPTION: [*_RECEPTION, *_REPORTS, "services.moderate_fieldreport"],
    Role.PROCESSING: [*_PROCESSING, *_REPORTS],
    # The unit's leader decides, assigns, and is warned of dossiers due soon or overdue.
    Role.APPROVAL: [
        *_HOUSEHOLDS,
        "services.view_dossier",
        "services.decide_dossier",
        "services.assign_dossier",
        *_REPORTS,
        "services.moderate_fieldreport",
        # A disputed fix comes back to them.
        "services.supervise_fieldreport",
        # The second pair of eyes on an emergency broadcast (BROADCAST_EMERGENCY_APPROVAL).
        "notifications.view_broadcast",
        "notifications.approve_broadcast",
    ],
    # Notices and emergency alerts to the wards of their units.
    Role.BROADCASTING: [
        *_DESK,
        "notifications.view_broadcast",
        "notifications.send_broadcast",
    ],
    Role.PROVINCE_ADMIN: [
        *_HOUSEHOLDS,
        "services.view_dossier",
        *_REPORTS,
        "services.moderate_fieldreport",
        # Who sent an anonymous report, against abuse (each read logged).
        "services.view_reporter_identity",
        "services.view_reportcategory",
        "services.add_reportcategory",
        "services.change_reportcategory",
        # The virtual assistant's FAQ, and the questions it could not answer.
        "assistant.view_faqentry",
        "assistant.add_faqentry",
        "assistant.change_faqentry",
        "assistant.delete_faqentry",
        "assistant.view_turn",
        # Applications posting reports through Open311, and their keys.
        "services.view_open311client",
        "services.add_open311client",
        "services.change_open311client",
        "accounts.view_full_national_id",
        "accounts.view_officialprofile",
        "accounts.view_dataaccesslog",
        "digital_address.change_ward",
        # The announced day swaps every working-day deadline reads.
        "services.view_calendarday",
        "services.add_calendarday",
        "services.change_calendarday",
        "services.delete_calendarday",
        # The procedure catalog, as the national database publishes it.
        "services.add_procedure",
        "services.change_procedure",
        "services.add_requireddocument",
        "services.change_requireddocument",
        "services.delete_requireddocument",
        "services.view_requireddocument",
        # What the apps' messages say, per event, language and channel.
        "notifications.view_notificationtemplate",
        "notifications.add_notificationtemplate",
        "notifications.change_notificationtemplate",
        "notifications.delete_notificationtemplate",
        "notifications.view_broadcast",
        "notifications.send_broadcast",
        "notifications.approve_broadcast",
    ],
}


def roles_ensure() -> dict[str, Group]:
    """Create or refresh the role groups and their permissions (idempotent)."""
    groups = {}
    for role, name in ROLE_GROUPS.items():
        group, _created = Group.objects.get_or_create(name=name)
        perms = []
        for dotted in ROLE_PERMISSIONS[role]:
            app_label, codename = dotted.split(".")
            perms.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(perms)
        groups[role] = group
    return groups
