from __future__ import annotations

from rest_framework import serializers

from digital_address.models import Province, Ward


class ProvinceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Province
        fields = ["code", "name", "division_type"]


class WardSerializer(serializers.ModelSerializer):
    class Meta:
        model = Ward
        fields = ["code", "name", "division_type", "province"]


class WardQuerySerializer(serializers.Serializer):
    # Bounded like Province.code (a small integer): a larger number is bad input (400), and on
    # SQLite it would not even fit the query (OverflowError, a 500).
    province = serializers.IntegerField(required=False, min_value=1, max_value=32767)
    search = serializers.CharField(required=False, allow_blank=True, max_length=100)
