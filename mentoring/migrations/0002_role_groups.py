from django.db import migrations

# The three roles that work through the admin and the safeguarding pages.
# What each may do is decided by RoleScopedAdmin and mentoring/permissions.py,
# not by per-model permission rows.
GROUPS = ("Coordinators", "Staff", "Safeguarding Lead")


def add_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in GROUPS:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("mentoring", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(add_groups, migrations.RunPython.noop)]
