"""``POST official/households/import/``: an official uploads a commune's CSV of paper records."""

from __future__ import annotations

import io

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import IsOfficial
from accounts.selectors import official_ward_codes
from config.openapi import ERROR_RESPONSE as ERROR
from digital_address.actions.households import ward_sequences_reserve
from digital_address.actions.imports import households_import
from digital_address.errors import ImportFileInvalid
from digital_address.household_csv import RowError, households_file_check, households_file_wards
from digital_address.models import Ward

MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class HouseholdImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="The CSV file: UTF-8, comma-separated, a header row. Columns: ward_code, "
        "import_ref, house_number, street, hamlet, latitude, longitude, head_full_name, "
        "head_date_of_birth, external_scheme, external_code. At most 10 MB."
    )


class ImportRowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Line in the file (the header is line 1).")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text='Column → messages; a problem with the whole row is under "row".',
    )


class HouseholdImportResultSerializer(serializers.Serializer):
    rows_read = serializers.IntegerField()
    imported = serializers.IntegerField()
    skipped_existing = serializers.IntegerField(
        help_text="Rows whose import_ref the ward already has (imported before)."
    )
    failed = serializers.IntegerField()
    errors = ImportRowErrorSerializer(
        many=True, help_text="Every row not imported, failed or skipped, in file order."
    )


class CanImportHouseholds(BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.user.has_perm("digital_address.import_households")


def _upload_text(upload: UploadedFile) -> str:
    if upload.size > MAX_UPLOAD_BYTES:
        message = _("The file is larger than %(size)d MB: import it in parts.") % {
            "size": MAX_UPLOAD_BYTES // (1024 * 1024)
        }
        raise ImportFileInvalid(message, fields={"file": [message]})
    try:
        return upload.read().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        message = _("The file is not UTF-8 text. Save it as “CSV UTF-8” and import it again.")
        raise ImportFileInvalid(message, fields={"file": [message]}) from exc


class OfficialHouseholdImportView(APIView):
    permission_classes = [IsOfficial, CanImportHouseholds]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": HouseholdImportUploadSerializer},
        responses={200: HouseholdImportResultSerializer, 400: ERROR, 403: ERROR},
        summary="Import households from a CSV file of paper records",
        description="Valid rows are imported (pending verification, with their codes); rows "
        "not imported come back in `errors`. A row whose ward is not one of mine fails. A row "
        "whose import_ref the ward already has is skipped, so sending a file again imports "
        "nothing twice. The file is imported in one transaction, and a row is written whole or "
        "not at all: a row the database refuses is reported, and an unexpected error (a 500) "
        "writes nothing. A problem with the file itself (not UTF-8, not CSV, an "
        "unknown or missing column, more rows than allowed, over 10 MB) is a 400 with "
        '`fields.file`, and nothing is written. Needs the "import households" permission.',
    )
    def post(self, request: Request) -> Response:
        upload = HouseholdImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        text = _upload_text(upload.validated_data["file"])
        # The whole file is checked before the first write: a broken or too long file writes
        # nothing.
        households_file_check(
            lines=io.StringIO(text, newline=""), max_rows=settings.HOUSEHOLD_IMPORT_MAX_ROWS
        )
        allowed = official_ward_codes(user=request.user)
        named = households_file_wards(lines=io.StringIO(text, newline=""))
        counters = Ward.objects.filter(
            code__in=named if allowed is None else named & allowed
        ).values_list("code", flat=True)
        errors: list[RowError] = []
        # One transaction for the whole file (at most HOUSEHOLD_IMPORT_MAX_ROWS rows, its chunks
        # are savepoints): a row's data never raises, and whatever else does (a bug, a lost
        # connection) answers a 500 with no report, so it must leave nothing written either. The
        # wards' code counters stay locked until the end: registrations in those wards wait.
        with transaction.atomic():
            # Every code counter the file can touch, locked now and in ward order: chunks meet
            # the wards in any order, and two uploads locking them chunk by chunk deadlock.
            ward_sequences_reserve(counts=dict.fromkeys(counters, 0))
            summary = households_import(
                lines=io.StringIO(text, newline=""),
                actor=request.user,
                allowed_wards=allowed,
                on_error=errors.append,
            )
        return Response(
            HouseholdImportResultSerializer(
                {
                    "rows_read": summary.rows_read,
                    "imported": summary.imported,
                    "skipped_existing": summary.skipped_existing,
                    "failed": summary.failed,
                    "errors": [{"row": e.row, "fields": e.fields} for e in errors],
                }
            ).data
        )
