"""Administrative units: loaded from ``vietnam-provinces`` (post-2025, two tiers), searched without
diacritics, listed publicly."""

from __future__ import annotations

import unicodedata
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import translation

from digital_address.actions.units import UnitLoadSummary, admin_units_load
from digital_address.models import Province, Ward
from digital_address.selectors import ward_search
from tests.factories import ProvinceFactory, WardFactory

pytestmark = pytest.mark.django_db

LANG_SON = 20
HA_TINH = 42
THAT_KHE = {"code": 6040, "name": "Xã Thất Khê", "division_type": "xã", "province": LANG_SON}
DONG_KINH = {"code": 5977, "name": "Phường Đông Kinh", "division_type": "phường", "province": 20}
CAI_KINH = {"code": 6427, "name": "Xã Cai Kinh", "division_type": "xã", "province": LANG_SON}
WARDS_URL = "/api/v1/admin-units/wards/"
PROVINCES_URL = "/api/v1/admin-units/provinces/"


@pytest.fixture
def lang_son():
    admin_units_load(province_code=LANG_SON)


def _load(*args: str) -> str:
    out = StringIO()
    call_command("load_admin_units", *args, stdout=out)
    return out.getvalue()


# --- loading ------------------------------------------------------------------------------------


def test_load_lang_son_only():
    output = _load("--province", "20")

    assert output == (
        "provinces: 1 new, 0 updated\n"
        "wards: 65 new, 0 updated\n"
        "Done: provinces 1 new / 0 updated; wards 65 new / 0 updated.\n"
    )
    assert list(Province.objects.values_list("code", "name", "division_type", "search_name")) == [
        (20, "Lạng Sơn", "tỉnh", "lang son")
    ]
    assert Ward.objects.count() == 65
    assert set(Ward.objects.values_list("province_id", flat=True)) == {LANG_SON}
    # Since 1 July 2025: 61 xã and 4 phường directly under the province.
    assert Counter(Ward.objects.values_list("division_type", flat=True)) == {"xã": 61, "phường": 4}
    that_khe = Ward.objects.get(code=6040)
    assert (
        that_khe.name,
        that_khe.codename,
        that_khe.search_name,
        that_khe.agency_code,
        that_khe.estimated_households,
        that_khe.latitude,
    ) == ("Xã Thất Khê", "xa_that_khe", "xa that khe", "06040", None, None)


def test_load_all_of_vietnam():
    output = _load()

    assert output.splitlines()[0] == "provinces: 34 new, 0 updated"
    assert output.splitlines()[-1] == (
        "Done: provinces 34 new / 0 updated; wards 3321 new / 0 updated."
    )
    assert Province.objects.count() == 34
    assert Ward.objects.count() == 3321
    assert Counter(Province.objects.values_list("division_type", flat=True)) == {
        "tỉnh": 28,
        "thành phố trung ương": 6,
    }
    assert Counter(Ward.objects.values_list("division_type", flat=True)) == {
        "xã": 2621,
        "phường": 687,
        "đặc khu": 13,
    }
    assert Ward.objects.filter(province_id=LANG_SON).count() == 65
    assert Ward.objects.values("agency_code").distinct().count() == 3321


def test_loading_twice_creates_nothing_new():
    _load("--province", "20")
    codes = list(Ward.objects.values_list("code", "agency_code"))

    output = _load("--province", "20")

    assert output == (
        "provinces: 0 new, 0 updated\n"
        "wards: 0 new, 0 updated\n"
        "Done: provinces 0 new / 0 updated; wards 0 new / 0 updated.\n"
    )
    assert Province.objects.count() == 1
    assert list(Ward.objects.values_list("code", "agency_code")) == codes


def test_loading_everything_after_one_province_adds_only_the_others():
    admin_units_load(province_code=LANG_SON)

    assert admin_units_load() == UnitLoadSummary(
        provinces_created=33, provinces_updated=0, wards_created=3321 - 65, wards_updated=0
    )
    assert admin_units_load() == UnitLoadSummary(0, 0, 0, 0)
    assert (Province.objects.count(), Ward.objects.count()) == (34, 3321)


def test_reload_renames_back_and_keeps_what_administrators_edited(lang_son):
    Province.objects.filter(code=LANG_SON).update(name="Tỉnh Cũ", search_name="tinh cu")
    Ward.objects.filter(code=6040).update(
        name="Thị trấn Thất Khê",
        search_name="thi tran that khe",
        division_type="phường",
        agency_code="000.20.06.H20",
        estimated_households=4321,
        latitude="22.255000",
        longitude="106.461000",
    )
    untouched = Ward.objects.get(code=5977)

    summary = admin_units_load(province_code=LANG_SON)

    assert summary == UnitLoadSummary(
        provinces_created=0, provinces_updated=1, wards_created=0, wards_updated=1
    )
    assert Province.objects.values_list("name", "search_name").get() == ("Lạng Sơn", "lang son")
    that_khe = Ward.objects.get(code=6040)
    assert (that_khe.name, that_khe.search_name, that_khe.division_type) == (
        "Xã Thất Khê",
        "xa that khe",
        "xã",
    )
    assert (
        that_khe.agency_code,
        that_khe.estimated_households,
        str(that_khe.latitude),
        str(that_khe.longitude),
    ) == ("000.20.06.H20", 4321, "22.255000", "106.461000")
    dong_kinh = Ward.objects.get(code=5977)
    assert (dong_kinh.name, dong_kinh.agency_code) == (untouched.name, untouched.agency_code)
    assert Ward.objects.count() == 65


def test_a_unit_saved_under_another_province_is_moved_not_duplicated():
    cao_bang = ProvinceFactory(code=4, name="Cao Bằng")
    WardFactory(
        code=6040,
        name="Xã Thất Khê",
        province=cao_bang,
        agency_code="H20.6040",
        estimated_households=3000,
    )

    summary = admin_units_load(province_code=LANG_SON)

    assert summary == UnitLoadSummary(
        provinces_created=1, provinces_updated=0, wards_created=64, wards_updated=1
    )
    that_khe = Ward.objects.get(code=6040)
    assert (that_khe.province_id, that_khe.agency_code, that_khe.estimated_households) == (
        LANG_SON,
        "H20.6040",
        3000,
    )
    assert Ward.objects.filter(province_id=LANG_SON).count() == 65
    assert Ward.objects.filter(province=cao_bang).count() == 0


def test_an_unknown_province_code_loads_nothing():
    assert admin_units_load(province_code=99) == UnitLoadSummary(0, 0, 0, 0)
    assert (Province.objects.count(), Ward.objects.count()) == (0, 0)


# --- search -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("that khe", [THAT_KHE]),
        ("Thất Khê", [THAT_KHE]),
        ("THAT KHE", [THAT_KHE]),
        (unicodedata.normalize("NFD", "thất khê"), [THAT_KHE]),  # decomposed, as some phones type
        ("dong kinh", [DONG_KINH]),
        ("ĐÔNG KINH", [DONG_KINH]),
        ("Đông Kinh", [DONG_KINH]),
        ("  dong   kinh ", [DONG_KINH]),
        ("kinh", [DONG_KINH, CAI_KINH]),
        ("kinh dong", [DONG_KINH]),
        ("dông kính", [DONG_KINH]),
        ("hà nội", []),
        ("%", []),
    ],
)
def test_ward_search_ignores_diacritics_and_case(lang_son, api_client, search, expected):
    response = api_client.get(WARDS_URL, {"province": LANG_SON, "search": search})

    assert response.status_code == 200
    assert response.json() == {"next": None, "previous": None, "results": expected}


def test_an_empty_search_lists_the_whole_province_in_code_order(lang_son, api_client):
    response = api_client.get(WARDS_URL, {"province": LANG_SON, "search": ""})

    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 65
    assert [w["code"] for w in results] == sorted(
        Ward.objects.filter(province_id=LANG_SON).values_list("code", flat=True)
    )
    assert response.json()["next"] is None


def test_the_province_filter(lang_son, api_client):
    admin_units_load(province_code=HA_TINH)
    xa_dong_kinh = Ward.objects.get(province_id=HA_TINH, search_name="xa dong kinh")

    everywhere = api_client.get(WARDS_URL, {"search": "dong kinh"}).json()["results"]
    in_lang_son = api_client.get(WARDS_URL, {"province": 20, "search": "dong kinh"}).json()
    in_ha_tinh = api_client.get(WARDS_URL, {"province": 42, "search": "dong kinh"}).json()
    in_ha_tinh_all = api_client.get(WARDS_URL, {"province": 42}).json()["results"]

    other = {"code": xa_dong_kinh.code, "name": "Xã Đông Kinh", "division_type": "xã"}
    assert everywhere == [DONG_KINH, {**other, "province": HA_TINH}]
    assert in_lang_son["results"] == [DONG_KINH]
    assert in_ha_tinh["results"] == [{**other, "province": HA_TINH}]
    assert len(in_ha_tinh_all) == 69
    assert {w["province"] for w in in_ha_tinh_all} == {HA_TINH}


def test_ward_search_selector_without_filters_returns_every_ward_by_code(lang_son):
    assert list(ward_search(province_code=None, query=None).values_list("code", flat=True)) == (
        sorted(Ward.objects.values_list("code", flat=True))
    )
    assert list(ward_search(province_code=4, query=None)) == []


# --- the API ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "message", "field_error"),
    [("en", "Invalid input.", "A valid integer is required."), ("vi", None, None)],
)
def test_a_province_that_is_not_a_number_is_a_400(
    lang_son, api_client, language, message, field_error
):
    with translation.override(language):  # the messages of the catalog, whatever it says
        message = message or translation.gettext("Invalid input.")
        field_error = field_error or translation.gettext("A valid integer is required.")

    response = api_client.get(
        WARDS_URL, {"province": "abc", "search": "kinh"}, HTTP_ACCEPT_LANGUAGE=language
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": message,
        "fields": {"province": [field_error]},
    }


@pytest.mark.parametrize(
    ("params", "field", "error"),
    [
        ({"province": "0"}, "province", "Ensure this value is greater than or equal to 1."),
        ({"province": "-20"}, "province", "Ensure this value is greater than or equal to 1."),
        ({"search": "x" * 101}, "search", "Ensure this field has no more than 100 characters."),
    ],
)
def test_other_bad_parameters_are_a_400(lang_son, api_client, params, field, error):
    response = api_client.get(WARDS_URL, params, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "Invalid input.",
        "fields": {field: [error]},
    }


def test_provinces_list_is_public_and_takes_one_query(
    lang_son, api_client, django_assert_num_queries
):
    admin_units_load(province_code=HA_TINH)

    with django_assert_num_queries(1):
        response = api_client.get(PROVINCES_URL)

    assert response.status_code == 200
    assert response.json() == [
        {"code": 20, "name": "Lạng Sơn", "division_type": "tỉnh"},
        {"code": 42, "name": "Hà Tĩnh", "division_type": "tỉnh"},
    ]


def test_provinces_list_of_all_vietnam(api_client, django_assert_num_queries):
    admin_units_load()

    with django_assert_num_queries(1):
        body = api_client.get(PROVINCES_URL).json()

    assert len(body) == 34
    assert body[0] == {
        "code": 1,
        "name": "Thành phố Hà Nội",
        "division_type": "thành phố trung ương",
    }
    assert [p["code"] for p in body] == sorted(p["code"] for p in body)


def test_wards_list_takes_one_query_per_page(api_client, django_assert_num_queries):
    admin_units_load()

    with django_assert_num_queries(1):
        first = api_client.get(WARDS_URL).json()
    with django_assert_num_queries(1):
        second = api_client.get(first["next"]).json()
    with django_assert_num_queries(1):
        searched = api_client.get(WARDS_URL, {"province": 20, "search": "kinh"}).json()

    assert len(first["results"]) == 200
    assert len(second["results"]) == 200
    assert first["results"][-1]["code"] < second["results"][0]["code"]
    assert searched["results"] == [DONG_KINH, CAI_KINH]


def test_unit_lists_need_no_token_and_ignore_a_bad_one(lang_son, api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    provinces = api_client.get(PROVINCES_URL)
    wards = api_client.get(WARDS_URL, {"province": 20, "search": "that khe"})

    assert provinces.status_code == 200
    assert wards.status_code == 200
    assert wards.json()["results"] == [THAT_KHE]


def test_unit_lists_are_read_only(lang_son, api_client):
    response = api_client.post(WARDS_URL, {"code": 1, "name": "Xã Giả"})

    assert response.status_code == 405
    assert Ward.objects.count() == 65
    assert api_client.delete(PROVINCES_URL).status_code == 405
    assert Province.objects.count() == 1


@pytest.mark.postgresql
def test_postgresql_serves_the_word_search_from_a_trigram_index():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the trigram index exists on PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = %s",
            ["digital_address_ward_search_trgm"],
        )
        [(definition,)] = cursor.fetchall()
        assert "USING gin (search_name gin_trgm_ops)" in definition
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT code FROM digital_address_ward WHERE search_name LIKE %s",
            ["%that khe%"],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "digital_address_ward_search_trgm" in plan
