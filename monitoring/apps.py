from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        # Connect the receivers for exams' signals (the one back-channel from exams), and the
        # notifications' receivers (monitoring's and exams' signals → webhook and email outbox).
        from monitoring.ingest import snapshots
        from monitoring.live import handlers  # noqa: F401
        from monitoring.notify import receivers  # noqa: F401

        snapshots.connect_receivers()
