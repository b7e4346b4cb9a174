"""The admin for webhooks, their deliveries (every attempt inline) and alert emails.

Webhooks are global: a delivery may describe any course's exam, so only superusers see these pages
(a proctor is scoped to their courses; exams.scoping).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from monitoring.notify import tasks, webhooks
from monitoring.notify.models import AlertEmail, NotifyEvent, Webhook, WebhookAttempt, WebhookDelivery


class SuperuserOnly(admin.ModelAdmin):
    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)


class WebhookForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(choices=NotifyEvent.choices, widget=forms.CheckboxSelectMultiple)
    # Write-only: the stored secret is never rendered back; blank on an edit keeps it.
    secret = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text="Shared with the receiver, which checks the X-ExamPulse-Signature HMAC. Blank keeps the current one.",
    )

    class Meta:
        model = Webhook
        fields = ["url", "secret", "events", "active"]

    def clean_url(self) -> str:
        return self._checked(webhooks.url_validate, self.cleaned_data["url"], "url")

    def clean_events(self) -> list[str]:
        return self._checked(webhooks.events_validate, list(self.cleaned_data["events"]), "events")

    def clean_secret(self) -> str:
        secret = self.cleaned_data.get("secret") or ""
        if not secret.strip():
            if self.instance.pk:
                return self.instance.secret
            raise forms.ValidationError("A secret is required.")
        return secret

    @staticmethod
    def _checked(check, value, field: str):
        try:
            return check(value)
        except webhooks.DomainError as exc:
            raise forms.ValidationError(str(exc)) from exc


@admin.register(Webhook)
class WebhookAdmin(SuperuserOnly):
    form = WebhookForm
    list_display = ("id", "url", "events_list", "active", "created_by", "created_at")
    list_filter = ("active",)
    search_fields = ("url",)

    @admin.display(description="events")
    def events_list(self, obj: Webhook) -> str:
        return ", ".join(obj.events or [])

    def save_model(self, request, obj, form, change) -> None:
        # Through the audited services (webhook_add uses the same ones).
        data = {field: form.cleaned_data[field] for field in ("url", "secret", "events", "active")}
        if change:
            saved = webhooks.webhook_update(webhook=obj, by=request.user, data=data)
        else:
            saved = webhooks.webhook_create(**data, created_by=request.user)
        obj.pk = saved.pk

    def delete_model(self, request, obj) -> None:
        webhooks.webhook_delete(webhook=obj, by=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for hook in queryset:
            webhooks.webhook_delete(webhook=hook, by=request.user)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ("at", "status_code", "error", "duration_ms")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(SuperuserOnly):
    list_display = ("delivery_id", "event", "webhook", "status", "attempts", "last_status_code", "next_attempt_at")
    list_filter = ("status", "event", "webhook")
    search_fields = ("delivery_id",)
    readonly_fields = (
        "webhook",
        "event",
        "payload",
        "delivery_id",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "created_at",
        "delivered_at",
    )
    inlines = [WebhookAttemptInline]
    actions = ["retry_now"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Read-only rows: the change page still shows them and their attempts.
        return False

    @admin.action(description="Retry now")
    def retry_now(self, request, queryset) -> None:
        due = [delivery for delivery in queryset if webhooks.delivery_retry_now(delivery=delivery, by=request.user)]
        tasks.enqueue_after_commit(deliveries=due)
        skipped = queryset.count() - len(due)
        self.message_user(request, f"{len(due)} deliveries queued; {skipped} already delivered.", messages.SUCCESS)


@admin.register(AlertEmail)
class AlertEmailAdmin(SuperuserOnly):
    list_display = ("id", "session", "risk_level", "status", "attempts", "created_at", "sent_at")
    list_select_related = ("session__user", "session__exam")
    list_filter = ("status", "risk_level")
    readonly_fields = (
        "session",
        "alert",
        "risk_level",
        "recipients",
        "subject",
        "body",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "sent_at",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
