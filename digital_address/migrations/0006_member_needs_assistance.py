from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("digital_address", "0005_alter_ward_agency_code"),
    ]

    operations = [
        migrations.AddField(
            model_name="householdmember",
            name="needs_assistance",
            field=models.BooleanField(
                db_default=False, default=False, verbose_name="needs assistance in emergencies"
            ),
        ),
    ]
