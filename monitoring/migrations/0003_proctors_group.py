"""The "Proctors" group: exactly the admin permissions a proctor needs, and nothing that edits accounts.

Granted:
  view   exams, sessions, events, alerts, baselines, users, audit entries  (the review console)
  add/change exams                                                        (run their own exams)
  change sessions   (review status and rescore; every field stays read-only, actions call services)
  change alerts     (resolve; the alert's fields stay read-only)
Not granted:
  any delete (sessions, events and alerts are evidence; an exam nobody took can be deleted over REST);
  change users: the stock user form edits is_staff, is_superuser, groups and permissions, so a proctor
  holding it could make themselves a superuser. Accommodations are changed with
  PUT /api/users/<id>/accommodations, which is audited.

Existing proctor-role staff users join the group, so an upgrade needs no manual step.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Proctors"
PERMISSIONS = [
    ("exams", "exam", ("view", "add", "change")),
    ("exams", "examsession", ("view", "change")),
    ("monitoring", "event", ("view",)),
    ("monitoring", "alert", ("view", "change")),
    ("scoring", "baseline", ("view",)),
    ("accounts", "user", ("view",)),
    ("accounts", "auditentry", ("view",)),
]


def create_group(apps, schema_editor):
    # On a fresh database the permission rows are only made after all migrations (post_migrate);
    # make them now so the group can reference them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    User = apps.get_model("accounts", "User")
    group, _ = Group.objects.get_or_create(name=GROUP)
    wanted = []
    for app_label, model, actions in PERMISSIONS:
        for action in actions:
            wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=f"{action}_{model}"))
    group.permissions.set(wanted)
    for user in User.objects.filter(role="proctor", is_staff=True):
        user.groups.add(group)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("accounts", "0001_initial"),
        ("exams", "0002_session_grading_exam_duration_check"),
        ("scoring", "0001_initial"),
        ("monitoring", "0002_presence"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
