from __future__ import annotations

from django.urls import path

from assistant.api import views

urlpatterns = [
    path("assistant/ask/", views.AskView.as_view(), name="assistant-ask"),
    path(
        "assistant/turns/<id:turn_id>/feedback/",
        views.FeedbackView.as_view(),
        name="assistant-feedback",
    ),
]
