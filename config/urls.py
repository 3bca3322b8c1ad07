from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from assistant.webhooks import channel_webhook
from config import (
    converters,  # noqa: F401  (registers <id:…> before the apps' URLconfs load)
    errors,
    health,
)
from config.api_root import ApiRootView
from digital_address.plates_page import plate_page

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="swagger-ui", permanent=False), name="root"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/v1/", ApiRootView.as_view(), name="api-root"),
    path("api/v1/", include("accounts.api.urls")),
    path("api/v1/", include("digital_address.api.urls")),
    path("api/v1/", include("services.api.urls")),
    path("api/v1/", include("notifications.api.urls")),
    path("api/v1/", include("assistant.api.urls")),
    path("open311/v2/", include("services.api.open311_urls")),
    # Chat platforms' webhooks (the assistant in an official account).
    path("webhooks/<str:name>/", channel_webhook, name="channel-webhook"),
    # House plates' QR codes open this page; not under /api/v1/, so it outlives API versions.
    path("a/<str:code>", plate_page, name="address-plate"),
    # Anything else under the API answers a JSON 404, whatever DEBUG is.
    re_path(r"^(api|open311|webhooks)/", errors.api_not_found),
]

handler400 = "config.errors.handler400"
handler403 = "config.errors.handler403"
handler404 = "config.errors.handler404"
handler500 = "config.errors.handler500"
