from django.contrib import admin

from monitoring.models import Alert, Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("id", "session", "event_type", "severity", "timestamp", "is_technical")
    list_filter = ("event_type", "severity", "is_technical")


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("id", "session", "alert_type", "severity", "risk_score", "resolved", "created_at")
    list_filter = ("severity", "resolved", "alert_type")
