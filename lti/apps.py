from django.apps import AppConfig


class LtiConfig(AppConfig):
    name = "lti"
    verbose_name = "LTI (LMS integration)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # monitoring.privacy lists every table holding a student's data; this app's tables join the
        # list from here (no app imports lti, so lti registers itself).
        from lti.privacy import register_student_data

        register_student_data()
