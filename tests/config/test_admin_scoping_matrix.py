"""Every model of the officials' admin, by its scope (config.admin_scope), through the HTTP
interface:

- rows of units (UNITS) or chosen by a selector (SELECTOR): an official of ward A holding every
  permission of the model finds nothing of ward B in the list, a search, B's page, an action
  posted with B's id (selected or "select all"), the autocomplete, the related-only filters or
  B's buttons;
- data of the whole deployment (PROVINCE): whoever holds the model's permissions sees every
  row, anybody else is refused;
- the machinery (TECHNICAL): superusers only, whatever permissions an official holds.

tests/accounts/test_admin_scoping.py covers the phone-number searches and URL filters of the
user list, the wards and the access log of a province administrator, and the SMS records."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db.models import Model
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.actions.officials import official_create_or_update
from accounts.events import record_data_access
from accounts.models import AccessPurpose, AccessResource, User
from accounts.roles import roles_ensure
from assistant.models import ChannelMessage, ChannelToken, Conversation, FaqEntry, Intent, Turn
from config.admin_scope import Scope
from notifications.actions import notify
from notifications.actions.broadcasts import broadcast_create
from notifications.models import Delivery, NotificationTemplate
from services.models import CalendarDay, Dossier, FieldReport
from services.open311 import open311_client_create
from tests.conftest import client_for
from tests.factories import (
    PASSWORD,
    DeviceFactory,
    HouseholdFactory,
    SmsMessageFactory,
)
from tests.services.reports import submit as submit_report

pytestmark = pytest.mark.django_db

EXPECTED_SCOPES: dict[str, Scope] = {
    "accounts.DataAccessLog": Scope.SELECTOR,
    "accounts.Device": Scope.TECHNICAL,
    "accounts.User": Scope.SELECTOR,
    "assistant.ChannelMessage": Scope.TECHNICAL,
    "assistant.ChannelToken": Scope.TECHNICAL,
    "assistant.FaqEntry": Scope.PROVINCE,
    "assistant.Turn": Scope.PROVINCE,
    "auth.Group": Scope.TECHNICAL,
    "digital_address.Household": Scope.UNITS,
    "digital_address.Province": Scope.PROVINCE,
    "digital_address.Ward": Scope.UNITS,
    "notifications.Broadcast": Scope.SELECTOR,
    "notifications.Delivery": Scope.TECHNICAL,
    "notifications.NotificationTemplate": Scope.PROVINCE,
    "notifications.SmsMessage": Scope.TECHNICAL,
    "services.CalendarDay": Scope.PROVINCE,
    "services.Dossier": Scope.UNITS,
    "services.FieldReport": Scope.UNITS,
    "services.Open311Client": Scope.PROVINCE,
    "services.Procedure": Scope.PROVINCE,
    "services.ReportCategory": Scope.PROVINCE,
    "token_blacklist.BlacklistedToken": Scope.TECHNICAL,
    "token_blacklist.OutstandingToken": Scope.TECHNICAL,
}


def labels(*scopes: Scope) -> list[str]:
    return sorted(label for label, scope in EXPECTED_SCOPES.items() if scope in scopes)


SCOPED = labels(Scope.UNITS, Scope.SELECTOR)


def model_admin(label: str) -> admin.ModelAdmin:
    return admin.site._registry[apps.get_model(label)]


def url(label: str, suffix: str = "") -> str:
    opts = apps.get_model(label)._meta
    return f"/admin/{opts.app_label}/{opts.model_name}/{suffix}"


def admin_client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def listed(response) -> list:
    assert response.status_code == 200, response.status_code
    return [obj.pk for obj in response.context["cl"].result_list]


def snapshot(model: type[Model], pk: Any) -> list[dict]:
    return list(model.objects.filter(pk=pk).values())


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser(
        phone="+84900000098", password=PASSWORD, full_name="Quản Trị Kỹ Thuật"
    )


def official_of(ward, *, phone: str = "+84900000051") -> User:
    """An official of ``ward`` with no role: no permission until one is granted."""
    return official_create_or_update(
        phone=phone,
        full_name="Cán Bộ Thử Quyền",
        password=PASSWORD,
        roles=[],
        unit_codes=[ward.code],
    )


def grant_every_permission(user: User, *models: type[Model]) -> User:
    types = [ContentType.objects.get_for_model(m, for_concrete_model=False) for m in models]
    user.user_permissions.set(Permission.objects.filter(content_type__in=types))
    return User.objects.get(pk=user.pk)


# --- one row in ward A and one in ward B, per model ---------------------------------------------


@dataclass(frozen=True)
class Pair:
    a: Model
    b: Model
    # What the list's search finds each by (None: the list has no search).
    a_search: str | None
    b_search: str | None
    # Text that would show B on a page (a confirmation page lists what it acts on).
    b_text: str


@dataclass(frozen=True)
class World:
    ward: Any
    other_ward: Any
    citizen: User
    other_citizen: User
    superuser: User


def _wards(w: World) -> Pair:
    return Pair(w.ward, w.other_ward, w.ward.name, w.other_ward.name, w.other_ward.name)


def _households(w: World) -> Pair:
    a = HouseholdFactory(ward=w.ward, street="Đường Bắc Sơn", head=w.citizen)
    b = HouseholdFactory(ward=w.other_ward, street="Đường Đoàn Kết", head=w.other_citizen)
    return Pair(a, b, a.code, b.code, "Đường Đoàn Kết")


def _users(w: World) -> Pair:
    return Pair(w.citizen, w.other_citizen, "Nguyễn Văn An", "Trần Thị Bình", "Trần Thị Bình")


def _access_log(w: World) -> Pair:
    read = {"resource": AccessResource.PROFILE, "purpose": AccessPurpose.ADMIN_VIEW}
    a = record_data_access(official=w.superuser, subject=w.citizen, **read)
    b = record_data_access(official=w.superuser, subject=w.other_citizen, **read)
    return Pair(a, b, None, None, "Trần Thị Bình")


def _broadcasts(w: World) -> Pair:
    later = timezone.now() + timedelta(hours=2)

    def create(title: str, ward) -> Any:
        return broadcast_create(
            official=w.superuser,
            title=title,
            body="Thông báo thử.",
            kind="information",
            ward_codes=[ward.code],
            scheduled_at=later,
        )

    a = create("Tiêm chủng ở Thất Khê", w.ward)
    b = create("Cắt nước ở Đoàn Kết", w.other_ward)
    return Pair(a, b, "Thất Khê", "Đoàn Kết", "Cắt nước ở Đoàn Kết")


def _dossiers(w: World) -> Pair:
    call_command("load_demo_procedures", stdout=StringIO())

    def submit(user: User, procedure: str, unit: int, form: dict) -> Dossier:
        response = client_for(user).post(
            "/api/v1/dossiers/",
            {"procedure": procedure, "unit": unit, "form_data": form},
            format="json",
        )
        assert response.status_code == 201, response.content
        return Dossier.objects.get(code=response.json()["code"])

    a = submit(w.citizen, "1.004873", w.ward.code, {"purpose": "Kết hôn"})
    b = submit(w.other_citizen, "1.000656", w.other_ward.code, {})
    return Pair(a, b, a.code, b.code, b.code)


def _reports(w: World) -> Pair:
    def new(user: User, ward, category: str) -> FieldReport:
        body = submit_report(client_for(user), ward=ward.code, category=category)
        return FieldReport.objects.get(pk=body["id"])

    a = new(w.citizen, w.ward, "lighting")
    b = new(w.other_citizen, w.other_ward, "waste")
    return Pair(a, b, str(a.pk), str(b.pk), f"#{b.pk} waste")


MAKERS: dict[str, Callable[[World], Pair]] = {
    "accounts.DataAccessLog": _access_log,
    "accounts.User": _users,
    "digital_address.Household": _households,
    "digital_address.Ward": _wards,
    "notifications.Broadcast": _broadcasts,
    "services.Dossier": _dossiers,
    "services.FieldReport": _reports,
}


@pytest.fixture
def world(ward, other_ward, citizen, other_citizen, superuser) -> World:
    return World(ward, other_ward, citizen, other_citizen, superuser)


@pytest.fixture
def scoped(request, world) -> tuple[str, Pair, User]:
    """(label, the rows of A and B, an official of ward A holding every permission of the
    model) for the label the test is parametrized with."""
    label = request.param
    pair = MAKERS[label](world)
    official = grant_every_permission(official_of(world.ward), apps.get_model(label))
    return label, pair, official


# --- the registry ----------------------------------------------------------------------------


def test_every_registered_admin_is_in_this_matrix_with_its_scope():
    registered = {
        model._meta.label: model_admin.scope for model, model_admin in admin.site._registry.items()
    }

    assert registered == EXPECTED_SCOPES
    assert set(MAKERS) == set(SCOPED)


# --- rows of units and selectors -------------------------------------------------------------


@pytest.mark.parametrize("scoped", SCOPED, indirect=True)
def test_the_list_shows_ward_a_only(scoped):
    label, pair, official = scoped

    assert listed(admin_client(official).get(url(label))) == [pair.a.pk]


@pytest.mark.parametrize(
    "scoped", [label for label in SCOPED if model_admin(label).search_fields], indirect=True
)
def test_searching_for_bs_row_finds_nothing(scoped):
    label, pair, official = scoped
    client = admin_client(official)

    assert listed(client.get(url(label), {"q": pair.a_search})) == [pair.a.pk]
    assert listed(client.get(url(label), {"q": pair.b_search})) == []


@pytest.mark.parametrize("scoped", SCOPED, indirect=True)
def test_bs_page_answers_as_for_a_row_that_does_not_exist(scoped):
    label, pair, official = scoped
    client = admin_client(official)
    model = apps.get_model(label)
    missing = model.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000

    b_page = client.get(url(label, f"{pair.b.pk}/change/"))
    nowhere = client.get(url(label, f"{missing}/change/"))

    assert client.get(url(label, f"{pair.a.pk}/change/")).status_code == 200
    assert (b_page.status_code, b_page["Location"]) == (302, "/admin/")
    assert (nowhere.status_code, nowhere["Location"]) == (302, "/admin/")


# Every other page of one row: Django's, and the admins' own.
OTHER_PAGES = {
    "accounts.User": ["password/"],
    "digital_address.Household": ["reject/", "assistance/", "external-code/"],
    "services.Dossier": ["letter/1/"],
}


@pytest.mark.parametrize("scoped", SCOPED, indirect=True)
def test_bs_other_pages_answer_as_for_a_row_that_does_not_exist(scoped):
    label, pair, official = scoped
    client = admin_client(official)
    model = apps.get_model(label)
    missing = model.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000
    before = snapshot(model, pair.b.pk)

    for page in ["history/", "delete/", *OTHER_PAGES.get(label, [])]:
        for method in ("get", "post"):
            b_page = getattr(client, method)(url(label, f"{pair.b.pk}/{page}"))
            nowhere = getattr(client, method)(url(label, f"{missing}/{page}"))

            assert b_page.status_code in (302, 403, 404), (page, method)
            assert b_page.status_code == nowhere.status_code, (page, method)
            assert b_page.get("Location") == nowhere.get("Location"), (page, method)
    assert snapshot(model, pair.b.pk) == before


def _action_names(client: Client, label: str) -> list[str]:
    form = client.get(url(label)).context["action_form"]
    return [] if form is None else [name for name, _label in form.fields["action"].choices if name]


def _data_rows(response) -> int:
    """The rows of an exported file, its header left out."""
    if response.get("Content-Type", "").startswith("text/csv"):
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        return len(list(csv.reader(io.StringIO(text)))) - 1
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    return len(list(workbook.worksheets[0].iter_rows())) - 1


EXPORTS = ["export_csv", "export_xlsx"]
ACTIONS = {
    "accounts.DataAccessLog": [],
    "accounts.User": ["delete_selected", *EXPORTS],
    "digital_address.Household": ["verify_selected", *EXPORTS],
    "digital_address.Ward": ["delete_selected"],
    "notifications.Broadcast": EXPORTS,
    "services.Dossier": EXPORTS,
    "services.FieldReport": EXPORTS,
}


@pytest.mark.parametrize("scoped", SCOPED, indirect=True)
def test_an_action_posted_with_bs_id_leaves_b_alone(scoped):
    label, pair, official = scoped
    client = admin_client(official)
    model = apps.get_model(label)
    names = _action_names(client, label)
    assert names == ACTIONS[label]
    before = snapshot(model, pair.b.pk)

    # The exports first: a deletion with "select all" takes A's row away.
    for name in sorted(names, key=lambda name: name not in EXPORTS):
        for select_across in ("0", "1"):
            form = {
                "action": name,
                "_selected_action": [pair.b.pk],
                "select_across": select_across,
                "index": "0",
            }
            response = client.post(url(label), form)
            if name.startswith("export_"):
                # B alone selected: an empty file; "select all": A's row, never B's.
                assert _data_rows(response) == int(select_across), (name, select_across)
            elif response.status_code == 200:
                # A confirmation page (delete): it lists what it would act on.
                assert pair.b_text not in response.content.decode(), name
                client.post(url(label), {**form, "post": "yes"})

            assert snapshot(model, pair.b.pk) == before, (name, select_across)


AUTOCOMPLETE_SOURCES = {
    # A foreign key pointing to the model: the autocomplete view serves any of them.
    "accounts.User": ("services", "dossier", "applicant"),
    "digital_address.Household": ("services", "dossier", "household"),
    "digital_address.Ward": ("digital_address", "household", "ward"),
    "notifications.Broadcast": ("notifications", "notification", "broadcast"),
    "services.Dossier": ("services", "dossierevent", "dossier"),
    "services.FieldReport": ("services", "reportevent", "report"),
}


def test_the_autocomplete_is_checked_for_every_searchable_scoped_admin():
    searchable = {label for label in SCOPED if model_admin(label).search_fields}

    assert set(AUTOCOMPLETE_SOURCES) == searchable


@pytest.mark.parametrize("scoped", sorted(AUTOCOMPLETE_SOURCES), indirect=True)
def test_the_autocomplete_does_not_list_b(scoped):
    label, pair, official = scoped
    app_label, model_name, field_name = AUTOCOMPLETE_SOURCES[label]
    client = admin_client(official)
    query = {"app_label": app_label, "model_name": model_name, "field_name": field_name}

    everything = client.get("/admin/autocomplete/", {**query, "term": ""})
    b_searched = client.get("/admin/autocomplete/", {**query, "term": pair.b_search})

    assert everything.status_code == 200, everything.content
    assert [r["id"] for r in everything.json()["results"]] == [str(pair.a.pk)]
    assert b_searched.json()["results"] == []


RELATED_ONLY = sorted(
    label
    for label in SCOPED
    if any(
        isinstance(spec, tuple) and issubclass(spec[1], RelatedOnlyFieldListFilter)
        for spec in model_admin(label).list_filter
    )
)


def test_the_related_only_filters_are_on_the_expected_lists():
    assert RELATED_ONLY == ["digital_address.Household", "services.Dossier", "services.FieldReport"]


def related_only_choices(response) -> dict[str, list]:
    """The choices of the related-only filters shown (Django shows one with two choices or
    more)."""
    return {
        spec.field.name: sorted(pk for pk, _label in spec.lookup_choices)
        for spec in response.context["cl"].filter_specs
        if isinstance(spec, RelatedOnlyFieldListFilter)
    }


@pytest.mark.parametrize("scoped", RELATED_ONLY, indirect=True)
def test_the_related_only_filters_do_not_offer_bs_values(scoped, superuser):
    label, pair, official = scoped
    fields = [spec[0] for spec in model_admin(label).list_filter if isinstance(spec, tuple)]
    # B's row has another unit, another procedure or category than A's.
    both = {f: sorted([getattr(pair.a, f"{f}_id"), getattr(pair.b, f"{f}_id")]) for f in fields}
    assert all(a != b for a, b in both.values())

    # Whoever sees both rows is offered both values; A's official, only A's: nothing to choose.
    assert related_only_choices(admin_client(superuser).get(url(label))) == both
    assert related_only_choices(admin_client(official).get(url(label))) == {}


WITH_TRANSITIONS = sorted(
    label for label in SCOPED if getattr(model_admin(label), "transitions", {})
)


def test_the_transitions_are_on_the_expected_lists():
    assert WITH_TRANSITIONS == [
        "notifications.Broadcast",
        "services.Dossier",
        "services.FieldReport",
    ]


@pytest.mark.parametrize("scoped", WITH_TRANSITIONS, indirect=True)
def test_bs_buttons_answer_404(scoped):
    label, pair, official = scoped
    client = admin_client(official)
    model = apps.get_model(label)
    before = snapshot(model, pair.b.pk)

    for name in model_admin(label).transitions:
        assert client.get(url(label, f"{pair.b.pk}/act/{name}/")).status_code == 404, name
        assert client.post(url(label, f"{pair.b.pk}/act/{name}/"), {}).status_code == 404, name

    assert snapshot(model, pair.b.pk) == before


# --- data of the whole deployment ------------------------------------------------------------


def _province_rows(label: str, world: World) -> None:
    """At least one row of the model (some come with the migrations)."""
    match label:
        case "assistant.FaqEntry":
            FaqEntry.objects.create(questions="Làm căn cước ở đâu?", answer="Ở công an xã.")
        case "assistant.Turn":
            Turn.objects.create(
                conversation=Conversation.objects.create(),
                question="Đăng ký khai sinh cần gì?",
                answer="Tờ khai.",
                intent=Intent.NONE,
                confidence=0.1,
            )
        case "notifications.NotificationTemplate":
            NotificationTemplate.objects.create(
                event="dossier.received", language="vi", channel="push", body="Đã nhận {{ code }}"
            )
        case "services.CalendarDay":
            CalendarDay.objects.create(
                date=timezone.localdate(), is_working_day=False, reason="Nghỉ bù"
            )
        case "services.Open311Client":
            open311_client_create(name="Ứng dụng phản ánh", contact="", active=True)
        case "services.Procedure":
            call_command("load_demo_procedures", stdout=StringIO())
        case "digital_address.Province" | "services.ReportCategory":
            pass  # the ``province`` fixture; the default categories of the migrations


PROVINCE = labels(Scope.PROVINCE)


@pytest.mark.parametrize("label", PROVINCE)
def test_province_data_is_whole_for_whoever_holds_its_permissions(label, world):
    _province_rows(label, world)
    model = apps.get_model(label)
    everything = sorted(model.objects.values_list("pk", flat=True))
    assert everything
    holder = grant_every_permission(official_of(world.ward), model)

    response = admin_client(holder).get(url(label))

    assert sorted(listed(response)) == everything
    assert admin_client(holder).get(url(label, f"{everything[0]}/change/")).status_code == 200


@pytest.mark.parametrize("label", PROVINCE)
def test_province_data_is_refused_without_its_permissions(label, world):
    _province_rows(label, world)
    model = apps.get_model(label)
    first = model.objects.order_by("pk").values_list("pk", flat=True)[0]
    # Every permission, but of the other models.
    others = [m for m in admin.site._registry if m is not model]
    stranger = grant_every_permission(official_of(world.ward), *others)

    assert admin_client(stranger).get(url(label)).status_code == 403
    assert admin_client(stranger).get(url(label, f"{first}/change/")).status_code == 403


# --- the machinery ---------------------------------------------------------------------------


def _technical_row(label: str, world: World) -> Any:
    match label:
        case "accounts.Device":
            return DeviceFactory(user=world.citizen).pk
        case "assistant.ChannelMessage":
            return ChannelMessage.objects.create(
                channel="zalo", external_id="m-1", sender="z-1", question="Xin chào"
            ).pk
        case "assistant.ChannelToken":
            return ChannelToken.objects.create(
                channel="zalo", access_token="secret", expires_at=timezone.now()
            ).pk
        case "auth.Group":
            return next(iter(roles_ensure().values())).pk
        case "notifications.Delivery":
            DeviceFactory(user=world.citizen)
            notify(users=[world.citizen], event="dossier.received", key="k", context={"code": "X"})
            return Delivery.objects.get(notification__user=world.citizen).pk
        case "notifications.SmsMessage":
            return SmsMessageFactory().pk
        case "token_blacklist.OutstandingToken":
            RefreshToken.for_user(world.citizen)
            return apps.get_model(label).objects.get().pk
        case "token_blacklist.BlacklistedToken":
            RefreshToken.for_user(world.citizen).blacklist()
            return apps.get_model(label).objects.get().pk
    raise AssertionError(label)


TECHNICAL = labels(Scope.TECHNICAL)


@pytest.mark.parametrize("label", TECHNICAL)
def test_the_machinery_is_refused_to_an_official_holding_all_its_permissions(label, world):
    pk = _technical_row(label, world)
    model = apps.get_model(label)
    holder = grant_every_permission(official_of(world.ward), model)
    client = admin_client(holder)

    assert client.get(url(label)).status_code == 403
    assert client.get(url(label, f"{pk}/change/")).status_code == 403
    assert client.get(url(label, "add/")).status_code == 403
    assert label not in index_labels(client)


@pytest.mark.parametrize("label", TECHNICAL)
def test_the_machinery_is_open_to_a_superuser(label, world):
    pk = _technical_row(label, world)
    client = admin_client(world.superuser)

    assert client.get(url(label)).status_code == 200
    assert client.get(url(label, f"{pk}/change/")).status_code == 200
    assert label in index_labels(client)


# --- the index -------------------------------------------------------------------------------


def index_labels(client: Client) -> set[str]:
    response = client.get("/admin/")
    assert response.status_code == 200
    return {
        f"{app['app_label']}.{m['object_name']}"
        for app in response.context["app_list"]
        for m in app["models"]
    }


def test_the_index_of_a_ward_official_lists_what_their_roles_open(official):
    assert index_labels(admin_client(official)) == {
        "accounts.User",
        "digital_address.Household",
        "digital_address.Province",
        "digital_address.Ward",
        "services.Dossier",
        "services.FieldReport",
        "services.Procedure",
    }


def test_the_index_of_an_official_holding_every_permission_leaves_the_machinery_out(world):
    holder = grant_every_permission(official_of(world.ward), *admin.site._registry)

    assert index_labels(admin_client(holder)) == set(
        labels(Scope.UNITS, Scope.SELECTOR, Scope.PROVINCE)
    )


def test_the_machinerys_autocomplete_is_refused_to_an_official_holding_all_its_permissions(
    world,
):
    # The one technical admin with a search that a foreign key points to.
    _technical_row("token_blacklist.OutstandingToken", world)
    model = apps.get_model("token_blacklist.OutstandingToken")
    holder = grant_every_permission(official_of(world.ward), model)
    query = {
        "app_label": "token_blacklist",
        "model_name": "blacklistedtoken",
        "field_name": "token",
    }

    refused = admin_client(holder).get("/admin/autocomplete/", {**query, "term": ""})
    served = admin_client(world.superuser).get("/admin/autocomplete/", {**query, "term": ""})

    assert refused.status_code == 403
    assert served.status_code == 200
    assert [r["id"] for r in served.json()["results"]] == [str(model.objects.get().pk)]
