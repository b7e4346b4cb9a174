from django.apps import AppConfig


class LtiConfig(AppConfig):
    name = "lti"
    verbose_name = "LTI (LMS integration)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # monitoring.privacy lists every table holding a student's data; this app's tables join the
        # list from here (no app imports lti, so lti registers itself).
        from django.db.models.signals import post_save

        from lti.privacy import register_student_data
        from lti.receivers import on_session_saved

        register_student_data()
        # Grades back to the LMS when a session's grade changes (lti.grades).
        post_save.connect(on_session_saved, sender="exams.ExamSession", dispatch_uid="lti-score-record")
