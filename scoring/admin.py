from django.contrib import admin

from scoring.models import Baseline


@admin.register(Baseline)
class BaselineAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "sample_count",
        "typing_speed_wpm",
        "mouse_speed_pxs",
        "avg_question_time_sec",
        "updated_at",
    )
    search_fields = ("user__email", "user__name")
