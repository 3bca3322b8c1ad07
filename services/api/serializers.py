from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from services.models import Procedure, ProcedureLevel, RequiredDocument


class ProcedureListSerializer(serializers.ModelSerializer):
    fee = serializers.IntegerField(help_text="VND; 0 when free.")

    class Meta:
        model = Procedure
        fields = [
            "code",
            "name",
            "field",
            "level",
            "online_level",
            "processing_time",
            "processing_unit",
            "fee",
            "household_required",
        ]


class RequiredDocumentSerializer(serializers.ModelSerializer):
    template = serializers.SerializerMethodField()

    class Meta:
        model = RequiredDocument
        fields = ["name", "mandatory", "template"]

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_template(self, document: RequiredDocument) -> str | None:
        if not document.template:
            return None
        request = self.context.get("request")
        url = document.template.url
        return request.build_absolute_uri(url) if request else url


class ProcedureDetailSerializer(ProcedureListSerializer):
    documents = RequiredDocumentSerializer(many=True)
    form_schema = serializers.JSONField(
        help_text="JSON Schema (draft 2020-12) of what the citizen fills in."
    )

    class Meta(ProcedureListSerializer.Meta):
        fields = [*ProcedureListSerializer.Meta.fields, "fee_note", "documents", "form_schema"]


class ProcedureQuerySerializer(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=100)
    field = serializers.CharField(required=False, max_length=150)
    level = serializers.ChoiceField(choices=ProcedureLevel.choices, required=False)
