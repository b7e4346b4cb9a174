from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo, gathered in one place: an app of its own (no models) so that its commands
    (seed_demo, seed_demo_activity), static files and templates are found where its code is."""

    name = "monitoring.demo"
    label = "demo"
    verbose_name = "Demo"
