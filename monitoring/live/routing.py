from django.urls import re_path

from monitoring.live.consumers import ExamConsumer

websocket_urlpatterns = [
    re_path(r"^ws/exam/?$", ExamConsumer.as_asgi()),
]
