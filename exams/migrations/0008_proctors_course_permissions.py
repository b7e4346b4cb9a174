"""The "Proctors" group also runs courses in the admin, as proctors already do over REST.

Granted: view, add and change courses (a proctor sees and edits only the courses they staff:
CourseAdmin's queryset is exams.courses.course_list_for), and view and add their roster and
staff rows (inline; every addition goes through exams.courses and is audited). Not granted: any
delete; a student or a colleague leaves a course through the audited REST call, as before.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Proctors"
PERMISSIONS = [
    ("course", ("view", "add", "change")),
    ("enrollment", ("view", "add")),
    ("coursestaff", ("view", "add")),
]


def _permissions(apps):
    # On a fresh database permission rows only appear after all migrations (post_migrate).
    app_config = apps.get_app_config("exams")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    return [
        Permission.objects.get(content_type__app_label="exams", codename=f"{action}_{model}")
        for model, actions in PERMISSIONS
        for action in actions
    ]


def grant(apps, schema_editor):
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name=GROUP)
    group.permissions.add(*_permissions(apps))


def revoke(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name=GROUP).first()
    if group is not None:
        group.permissions.remove(*_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("exams", "0007_session_state_version"),
        ("monitoring", "0003_proctors_group"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
