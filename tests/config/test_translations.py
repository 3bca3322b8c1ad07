"""The Vietnamese catalog is complete and compiled: every message of ours reads in Vietnamese."""

from __future__ import annotations

from pathlib import Path

import polib
from django.conf import settings
from django.utils import translation

CATALOG = Path(settings.BASE_DIR) / "locale/vi/LC_MESSAGES/django.po"


def _translation(entry: polib.POEntry) -> str:
    # Vietnamese has one plural form (nplurals=1): msgstr[0] serves every count.
    return entry.msgstr_plural.get(0, "") if entry.msgid_plural else entry.msgstr


def _compiled(entry: polib.POEntry) -> str:
    if entry.msgid_plural:
        return translation.ngettext(entry.msgid, entry.msgid_plural, 2)
    if entry.msgctxt:  # the same English word, said otherwise of a report ("report status")
        return translation.pgettext(entry.msgctxt, entry.msgid)
    return translation.gettext(entry.msgid)


def test_every_message_is_translated_and_compiled():
    po = polib.pofile(str(CATALOG))
    entries = [e for e in po if not e.obsolete]
    assert entries
    assert [e.msgid for e in entries if not _translation(e) or "fuzzy" in e.flags] == []
    with translation.override("vi"):
        stale = [e.msgid for e in entries if _compiled(e) != _translation(e)]
    assert stale == []


def test_english_is_the_source_language():
    with translation.override("en"):
        assert translation.gettext("Invalid input.") == "Invalid input."
    with translation.override("vi"):
        assert translation.gettext("Invalid input.") == "Dữ liệu không hợp lệ."
