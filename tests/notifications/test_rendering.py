"""Rendering an event's texts: SMS sizes and cuts (GSM-7 / UCS-2, two segments at most), push
cut to what phones show, the administrators' templates overriding the built-in texts per event,
language and channel, and plain text (no HTML escaping)."""

from __future__ import annotations

import pytest

from accounts.models import User
from notifications.actions import notify
from notifications.events import get_event
from notifications.models import Channel, Delivery, Notification, NotificationTemplate
from notifications.rendering import (
    PUSH_BODY_MAX,
    PUSH_TITLE_MAX,
    Rendered,
    SmsSize,
    TemplateSet,
    fit,
    fit_sms,
    sms_size,
)
from tests.factories import DeviceFactory, UserFactory

RECEIVED_CONTEXT = {"code": "H20.6040-260302-0001", "date": "10/03/2026"}
RECEIVED_VI = Rendered(
    "Hồ sơ H20.6040-260302-0001 đã được tiếp nhận",
    "Hồ sơ của bạn đã được tiếp nhận. Ngày hẹn trả kết quả: 10/03/2026.",
)
RECEIVED_EN = Rendered(
    "Dossier H20.6040-260302-0001 received",
    "Your dossier was received. Appointment date for the result: 10/03/2026.",
)


def template(event: str, language: str, channel: str, body: str, **fields) -> None:
    NotificationTemplate.objects.create(
        event=event, language=language, channel=channel, body=body, **fields
    )


def render(event: str, channel: str, language: str, context: dict) -> Rendered:
    return TemplateSet([event]).render(get_event(event), channel, language, context)


# --- SMS sizes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SmsSize("GSM-7", 0, 0)),
        ("a", SmsSize("GSM-7", 1, 1)),
        ("a" * 160, SmsSize("GSM-7", 160, 1)),
        ("a" * 161, SmsSize("GSM-7", 161, 2)),
        ("a" * 306, SmsSize("GSM-7", 306, 2)),
        ("a" * 307, SmsSize("GSM-7", 307, 3)),
        ("Ho so da co ket qua. @£$¥èéùìòÇØøÅåÆæßÉÄÖÑÜäöñüà§¿¡", SmsSize("GSM-7", 51, 1)),
        ("€" * 80, SmsSize("GSM-7", 160, 1)),
        ("[" * 81, SmsSize("GSM-7", 162, 2)),
        ("a" * 158 + "{}", SmsSize("GSM-7", 162, 2)),
        ("^{}\\[~]|€", SmsSize("GSM-7", 18, 1)),
        ("ơ" * 70, SmsSize("UCS-2", 70, 1)),
        ("ơ" * 71, SmsSize("UCS-2", 71, 2)),
        ("a" * 133 + "đ", SmsSize("UCS-2", 134, 2)),
        ("a" * 134 + "đ", SmsSize("UCS-2", 135, 3)),
        ("Hồ sơ đã có kết quả", SmsSize("UCS-2", 19, 1)),
        # Outside the basic plane: two UTF-16 units.
        ("😀" * 35, SmsSize("UCS-2", 70, 1)),
    ],
    ids=[
        "empty",
        "one",
        "gsm-single-full",
        "gsm-two",
        "gsm-two-full",
        "gsm-three",
        "gsm-basic-accents",
        "euro-counts-twice",
        "bracket-counts-twice",
        "braces-count-twice",
        "every-extension",
        "ucs-single-full",
        "ucs-two",
        "ucs-two-full",
        "ucs-three",
        "vietnamese",
        "emoji",
    ],
)
def test_sms_size_counts_units_and_segments(text, expected):
    assert sms_size(text) == expected


@pytest.mark.parametrize("letter", ["ă", "â", "đ", "Đ", "ê", "ô", "ơ", "ư", "ế", "ả", "ạ", "ỹ"])
def test_any_vietnamese_letter_outside_gsm_7_makes_the_text_ucs_2(letter):
    assert sms_size("Ho so " + letter) == SmsSize("UCS-2", 7, 1)


# --- SMS cuts -----------------------------------------------------------------------------------


def test_a_text_within_two_segments_is_kept_with_its_spaces_folded():
    assert fit_sms("  Hồ sơ\n đã   có kết quả. ", unaccented=False) == "Hồ sơ đã có kết quả."


def test_a_long_gsm_7_text_is_cut_to_two_segments_with_three_dots():
    text = " ".join(f"word{n:03d}" for n in range(60))  # 479 characters

    fitted = fit_sms(text, unaccented=False)

    assert fitted == text[:303] + "..."
    assert sms_size(fitted) == SmsSize("GSM-7", 306, 2)


def test_the_cut_does_not_end_on_a_space_before_the_dots():
    text = "a " * 200

    fitted = fit_sms(text, unaccented=False)

    assert fitted == "a " * 151 + "a..."
    assert sms_size(fitted) == SmsSize("GSM-7", 306, 2)


def test_extension_characters_count_twice_when_cutting():
    fitted = fit_sms("€" * 200, unaccented=False)

    assert fitted == "€" * 151 + "..."
    assert sms_size(fitted) == SmsSize("GSM-7", 305, 2)


def test_a_long_ucs_2_text_is_cut_to_two_segments_with_one_ellipsis_character():
    text = "Thông báo lịch tiêm chủng tại nhà văn hoá thôn Nà Cạn. " * 5

    fitted = fit_sms(text, unaccented=False)

    assert fitted == text[:133].rstrip() + "…"
    assert fitted == (
        "Thông báo lịch tiêm chủng tại nhà văn hoá thôn Nà Cạn. "
        "Thông báo lịch tiêm chủng tại nhà văn hoá thôn Nà Cạn. "
        "Thông báo lịch tiêm chủ…"
    )
    assert sms_size(fitted) == SmsSize("UCS-2", 134, 2)


def test_without_diacritics_the_text_becomes_gsm_7():
    assert fit_sms("Hồ sơ đã có kết quả", unaccented=True) == "Ho so da co ket qua"
    assert fit_sms("Đ đ Ă Ơ Ư ữ", unaccented=True) == "D d A O U u"
    assert sms_size(fit_sms("Đề nghị bổ sung hồ sơ", unaccented=True)).encoding == "GSM-7"


def test_without_diacritics_a_long_text_keeps_160_characters_a_segment():
    text = "Hồ sơ đã có kết quả. " * 20

    fitted = fit_sms(text, unaccented=True)

    # "Ho so da c..." would be 307 units: the cut falls on the space before it.
    assert fitted == "Ho so da co ket qua. " * 14 + "Ho so da..."
    assert sms_size(fitted) == SmsSize("GSM-7", 305, 2)


# --- push ---------------------------------------------------------------------------------------


def test_push_title_and_text_are_cut_to_what_phones_show():
    fitted = fit(Channel.PUSH, Rendered("T" * 66, "B" * 241), strip=False)

    assert fitted == Rendered("T" * 64 + "…", "B" * 239 + "…")
    assert (len(fitted.title), len(fitted.body)) == (PUSH_TITLE_MAX, PUSH_BODY_MAX)


def test_push_texts_at_the_limit_are_not_cut():
    assert fit(Channel.PUSH, Rendered("T" * 65, "B" * 240), strip=False) == Rendered(
        "T" * 65, "B" * 240
    )


def test_a_push_cut_does_not_leave_a_space_before_the_ellipsis():
    fitted = fit(Channel.PUSH, Rendered("Hồ sơ " * 20, "x"), strip=False)

    assert fitted.title == ("Hồ sơ " * 11)[:64].rstrip() + "…"
    assert len(fitted.title) <= PUSH_TITLE_MAX


# --- templates ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_without_templates_each_language_reads_the_built_in_text():
    assert render("dossier.received", "push", "vi", RECEIVED_CONTEXT) == RECEIVED_VI
    assert render("dossier.received", "push", "en", RECEIVED_CONTEXT) == RECEIVED_EN
    assert render("dossier.received", "inbox", "vi", RECEIVED_CONTEXT) == RECEIVED_VI


@pytest.mark.django_db
def test_a_vietnamese_push_template_changes_only_vietnamese_push():
    template(
        "dossier.received",
        "vi",
        "push",
        "Hẹn trả kết quả ngày {{ date }}.",
        title="Đã nhận hồ sơ {{ code }}",
    )

    assert render("dossier.received", "push", "vi", RECEIVED_CONTEXT) == Rendered(
        "Đã nhận hồ sơ H20.6040-260302-0001", "Hẹn trả kết quả ngày 10/03/2026."
    )
    assert render("dossier.received", "push", "en", RECEIVED_CONTEXT) == RECEIVED_EN
    assert render("dossier.received", "inbox", "vi", RECEIVED_CONTEXT) == RECEIVED_VI


@pytest.mark.django_db
def test_a_template_for_another_event_changes_nothing():
    template("dossier.approved", "vi", "push", "Khác", title="Khác")

    assert render("dossier.received", "push", "vi", RECEIVED_CONTEXT) == RECEIVED_VI


@pytest.mark.django_db
def test_a_push_template_is_cut_like_the_built_in_text():
    template("dossier.received", "vi", "push", "{{ date }} " * 30, title="Hồ sơ {{ code }} " * 5)

    rendered = render("dossier.received", "push", "vi", RECEIVED_CONTEXT)

    assert rendered == Rendered(
        ("Hồ sơ H20.6040-260302-0001 " * 3)[:64].rstrip() + "…",
        ("10/03/2026 " * 30)[:239].rstrip() + "…",
    )


@pytest.mark.django_db
def test_the_built_in_sms_is_sent_without_diacritics():
    assert render("dossier.approved", "sms", "vi", {"code": "X"}) == Rendered(
        "", "Ho so X da co ket qua. Ho so da duoc giai quyet. Da co ket qua."
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("strip", "expected"),
    [
        (True, "Ho so X da co ket qua, moi ong/ba den nhan."),
        (False, "Hồ sơ X đã có kết quả, mời ông/bà đến nhận."),
    ],
    ids=["stripped", "kept"],
)
def test_an_sms_template_keeps_or_strips_diacritics_as_the_administrator_chose(strip, expected):
    template(
        "dossier.approved",
        "vi",
        "sms",
        "Hồ sơ {{ code }} đã có kết quả, mời ông/bà đến nhận.",
        strip_diacritics=strip,
    )

    assert render("dossier.approved", "sms", "vi", {"code": "X"}) == Rendered("", expected)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("title", "body"),
    [
        ("Hồ sơ {{ code }}", "{% if date %}Hẹn {{ date }}"),
        ("Hồ sơ {{ code|no_such_filter }}", "Hẹn {{ date }}"),
        ("Hồ sơ {{ code }}", "{% no_such_tag %}"),
    ],
    ids=["unclosed-if", "unknown-filter", "unknown-tag"],
)
def test_a_broken_template_falls_back_to_the_built_in_text(title, body):
    template("dossier.received", "vi", "push", body, title=title)

    assert render("dossier.received", "push", "vi", RECEIVED_CONTEXT) == RECEIVED_VI


@pytest.mark.django_db
def test_texts_are_plain_text_never_html_escaped():
    template("dossier.received", "vi", "push", "A & B <c> \"d\" 'e' {{ note }}", title="{{ code }}")
    context = {"code": "A & B <c>", "note": "<b>x</b> & y", "date": "<1/3>"}

    assert render("dossier.received", "push", "vi", context) == Rendered(
        "A & B <c>", "A & B <c> \"d\" 'e' <b>x</b> & y"
    )
    assert render("dossier.received", "push", "en", context) == Rendered(
        "Dossier A & B <c> received",
        "Your dossier was received. Appointment date for the result: <1/3>.",
    )


@pytest.mark.django_db
def test_templates_are_read_in_one_query_for_every_recipient(django_assert_num_queries):
    template("dossier.received", "vi", "push", "Hẹn {{ date }}", title="{{ code }}")
    template("dossier.received", "en", "inbox", "On {{ date }}", title="{{ code }}")

    with django_assert_num_queries(1):
        templates = TemplateSet(["dossier.received", "dossier.approved"])
    with django_assert_num_queries(0):
        rendered = [
            templates.render(get_event("dossier.received"), channel, language, RECEIVED_CONTEXT)
            for channel in ("push", "inbox")
            for language in ("vi", "en")
        ]

    assert rendered == [
        Rendered("H20.6040-260302-0001", "Hẹn 10/03/2026"),
        RECEIVED_EN,
        RECEIVED_VI,
        Rendered("H20.6040-260302-0001", "On 10/03/2026"),
    ]


# --- through notify() ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_inbox_template_changes_the_stored_message_of_its_language_only(citizen, ward):
    english = UserFactory(phone="+84911111111", full_name="John Smith", ward=ward)
    User.objects.filter(pk=english.pk).update(language="en")
    english.refresh_from_db()
    DeviceFactory(user=citizen)
    template(
        "dossier.received",
        "vi",
        "inbox",
        "Ông/bà {{ code }} & <hẹn> ngày {{ date }}.",
        title="Đã nhận hồ sơ {{ code }}",
    )

    notify(
        users=[citizen, english],
        event="dossier.received",
        key="dossier:H20.6040-260302-0001:event:1",
        context=RECEIVED_CONTEXT,
    )

    assert list(
        Notification.objects.order_by("user_id").values_list("user_id", "title", "body")
    ) == [
        (
            citizen.pk,
            "Đã nhận hồ sơ H20.6040-260302-0001",
            "Ông/bà H20.6040-260302-0001 & <hẹn> ngày 10/03/2026.",
        ),
        (english.pk, RECEIVED_EN.title, RECEIVED_EN.body),
    ]
    # The push of the same message keeps the built-in text: the template was for the inbox.
    assert list(Delivery.objects.values_list("channel", "title", "body")) == [
        ("push", RECEIVED_VI.title, RECEIVED_VI.body)
    ]
