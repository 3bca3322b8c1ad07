"""The report categories a province starts with; administrators edit them in the admin."""

from django.db import migrations

# (code, Vietnamese name, English name, group, the office of the commune that handles it)
CATEGORIES = [
    (
        "roads",
        "Giao thông, đường sá",
        "Roads and traffic",
        "Hạ tầng",
        "Công chức Địa chính – Xây dựng",
    ),
    (
        "lighting",
        "Chiếu sáng công cộng",
        "Street lighting",
        "Hạ tầng",
        "Công chức Địa chính – Xây dựng",
    ),
    (
        "waste",
        "Rác thải, vệ sinh môi trường",
        "Waste and sanitation",
        "Môi trường",
        "Công chức Địa chính – Nông nghiệp – Môi trường",
    ),
    (
        "water",
        "Cấp nước, thoát nước",
        "Water supply and drainage",
        "Hạ tầng",
        "Công chức Địa chính – Xây dựng",
    ),
    ("security", "An ninh, trật tự", "Security and public order", "An ninh trật tự", "Công an xã"),
    (
        "environment",
        "Ô nhiễm môi trường",
        "Pollution",
        "Môi trường",
        "Công chức Địa chính – Nông nghiệp – Môi trường",
    ),
]


def create(apps, schema_editor):
    ReportCategory = apps.get_model("services", "ReportCategory")
    for position, (code, name, name_en, group, handled_by) in enumerate(CATEGORIES):
        ReportCategory.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "group": group,
                "handled_by": handled_by,
                "position": position,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("services", "0011_field_reports")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
