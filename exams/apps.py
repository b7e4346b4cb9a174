from django.apps import AppConfig


class ExamsConfig(AppConfig):
    name = "exams"
    verbose_name = "Exams"

    def ready(self) -> None:
        # accounts cannot import exams (layers), yet who a proctor may act on depends on courses.
        from accounts.scoping import user_scope_register
        from exams.scoping import user_scope

        user_scope_register(user_scope)
