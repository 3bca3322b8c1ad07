"""One button per allowed transition on an object's admin page: each asks its form (a reason
where the rules need one, else a confirmation), checks the official's permission, and calls
the same action as the API; the action itself is the guard (its refusal is shown on the form).
Declared per model admin as ``transitions``; shown only in the statuses it applies to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from config.errors import DomainError


class ConfirmForm(forms.Form):
    """Nothing to fill in: the page asks to confirm."""


@dataclass(frozen=True)
class Transition:
    label: str
    permission: str  # "app_label.codename"
    statuses: frozenset
    run: Callable[[Any, Any, dict], object]  # (official, object, cleaned data)
    form: type[forms.Form] = ConfirmForm
    # Extra arguments of the form, from the object (a choice among its unit's officials).
    form_kwargs: Callable[[Any], dict] = field(default=lambda obj: {})
    # Said on the confirmation page, under the title; ``summary`` says it of this object
    # (whom a broadcast reaches).
    warning: str = ""
    summary: Callable[[Any], str] | None = None


class TransitionsAdmin:
    """Mixed into a ModelAdmin (before it): ``transitions`` name → Transition."""

    transitions: dict[str, Transition] = {}
    status_field = "status"
    change_form_template = "admin/transitions/change_form.html"

    def transitions_for(self, request: HttpRequest, obj) -> list[tuple[str, str]]:
        status = getattr(obj, self.status_field)
        return [
            (name, t.label)
            for name, t in self.transitions.items()
            if status in t.statuses and request.user.has_perm(t.permission)
        ]

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "<id:pk>/act/<slug:action>/",
                self.admin_site.admin_view(self.transition_view),
                name=f"{opts.app_label}_{opts.model_name}_act",
            ),
            *super().get_urls(),
        ]

    def transition_view(self, request: HttpRequest, pk: int, action: str):
        spec = self.transitions.get(action)
        if spec is None:
            raise Http404
        obj = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_view_permission(request, obj) or not request.user.has_perm(spec.permission):
            raise PermissionDenied
        posted = request.method == "POST"
        form = spec.form(
            request.POST if posted else None,
            request.FILES if posted else None,
            **spec.form_kwargs(obj),
        )
        if posted and form.is_valid():
            try:
                spec.run(request.user, obj, form.cleaned_data)
            except DomainError as exc:
                for name, problems in exc.fields.items():
                    for problem in problems:
                        form.add_error(name if name in form.fields else None, problem)
                if not exc.fields:
                    form.add_error(None, exc.message)
            else:
                self.message_user(request, _("Done."))
                opts = self.model._meta
                return redirect(f"admin:{opts.app_label}_{opts.model_name}_change", obj.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": obj,
            "title": f"{spec.label}: {obj}",
            "transition": spec,
            "summary": spec.summary(obj) if spec.summary else "",
            "action": action,
            "form": form,
        }
        return TemplateResponse(request, "admin/transitions/form.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and getattr(response, "status_code", None) == 200:
            obj = response.context_data.get("original")
            if obj is not None:
                response.context_data["transitions"] = self.transitions_for(request, obj)
        return response
