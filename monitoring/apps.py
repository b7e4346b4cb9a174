from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        # Connect the receivers for exams' signals (the one back-channel from exams).
        from monitoring.live import handlers  # noqa: F401
