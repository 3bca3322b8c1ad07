"""The officials' workspace: Django's admin site, in Vietnamese by default, where every model
admin declares whose rows it shows (config.admin_scope)."""

from __future__ import annotations

from functools import wraps

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from accounts.selectors import official_units_loaded
from config.admin_scope import ScopedAdmin, TechnicalAdmin

# Django's admin strings its own Vietnamese catalogue lacks, translated in ours.
DJANGO_STRINGS = [gettext_noop("Show counts"), gettext_noop("Hide counts")]


class OfficialsAdminSite(admin.AdminSite):
    site_header = _("Công dân số: officials' workspace")
    site_title = _("Công dân số")
    index_title = _("Administration")
    index_template = "admin/officials_index.html"
    # At 1366×768 the lists need the whole width; the home page lists the sections.
    enable_nav_sidebar = False

    def index(self, request, extra_context=None):
        from config.admin_home import official_queues

        user = request.user
        context = {
            **(extra_context or {}),
            "queues": official_queues(user),
            "sees_kpis": user.has_perm("services.view_dossier")
            or user.has_perm("services.view_fieldreport"),
        }
        return super().index(request, context)

    def admin_view(self, view, cacheable=False):
        """Every admin page reads the official's units once (every scoped query uses them)."""
        inner = super().admin_view(view, cacheable)

        @wraps(view)
        def with_units(request, *args, **kwargs):
            if request.user.is_authenticated:
                official_units_loaded(request.user)
            return inner(request, *args, **kwargs)

        return with_units

    def get_urls(self):
        from functools import partial

        from django.urls import path

        from config.admin_kpis import kpis_view

        return [
            path("kpis/", self.admin_view(partial(kpis_view, site=self)), name="kpis"),
            *super().get_urls(),
        ]

    def register(self, model_or_iterable, admin_class=None, **options) -> None:
        admin_class = admin_class or admin.ModelAdmin
        if issubclass(admin_class, ScopedAdmin):
            admin_class.check_scope()
        else:
            # Not ours (Django's groups, simplejwt's tokens): superusers only.
            admin_class = type(
                admin_class.__name__,
                (TechnicalAdmin, admin_class),
                {"__module__": admin_class.__module__},
            )
        super().register(model_or_iterable, admin_class, **options)
