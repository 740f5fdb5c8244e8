from django.db import migrations


def create_roles(apps, schema_editor):
    """Create the organisers' groups as workshop/roles.py defines them now."""
    from workshop.roles import ensure_roles

    ensure_roles()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("workshop", "0003_organiser_permissions"),
    ]

    # Later changes to the roles are applied by `manage.py ensure_roles`, not by new migrations.
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
