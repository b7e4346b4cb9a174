from django.apps import AppConfig


class ExamsConfig(AppConfig):
    name = "exams"
    verbose_name = "Exams"

    def ready(self) -> None:
        # accounts cannot import exams (layers), yet who a proctor may act on depends on courses.
        from accounts.scoping import examinee_scope_register, user_scope_register
        from exams.scoping import examinee_scope, user_scope
        from exams.selectors import student_has_open_session
        from scoring.services import baseline_guard_register

        user_scope_register(user_scope)
        examinee_scope_register(examinee_scope)
        # scoring cannot import exams, yet a baseline write must wait for the student's exam to end.
        baseline_guard_register(student_has_open_session)
