"""The fixed contact roles and the "Partner managers" group exist from the start."""

from django.db import migrations

CONTACT_ROLES = [
    ("primary", "Primary contact"),
    ("executive-sponsor", "Executive sponsor"),
    ("sales", "Sales"),
    ("marketing", "Marketing"),
    ("technical", "Technical"),
    ("finance", "Finance"),
]


def create(apps, schema_editor):
    ContactRole = apps.get_model("partners", "ContactRole")
    for position, (code, name) in enumerate(CONTACT_ROLES):
        ContactRole.objects.update_or_create(
            code=code, defaults={"name": name, "position": position}
        )
    apps.get_model("auth", "Group").objects.get_or_create(name="Partner managers")


class Migration(migrations.Migration):
    dependencies = [("partners", "0002_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
