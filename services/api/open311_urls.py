from __future__ import annotations

from django.urls import path, re_path

from services.api import open311

FMT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    path("", open311.DiscoveryView.as_view(), {"fmt": "json"}, name="open311-root"),
    re_path(r"^discovery" + FMT, open311.DiscoveryView.as_view(), name="open311-discovery"),
    re_path(r"^services" + FMT, open311.ServiceListView.as_view(), name="open311-services"),
    re_path(
        # Any name: an unknown one is answered by the view, in the specification's format.
        r"^services/(?P<service_code>[^/]+?)" + FMT,
        open311.ServiceDefinitionView.as_view(),
        name="open311-service",
    ),
    re_path(r"^requests" + FMT, open311.RequestListView.as_view(), name="open311-requests"),
    re_path(
        r"^requests/(?P<request_id>[^/]+?)" + FMT,
        open311.RequestDetailView.as_view(),
        name="open311-request",
    ),
]
