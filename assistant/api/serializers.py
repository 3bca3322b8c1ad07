from __future__ import annotations

from rest_framework import serializers

from assistant.models import Intent


class AskSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=1000, help_text="Free Vietnamese text.")
    conversation = serializers.UUIDField(
        required=False, allow_null=True, help_text="The id of an earlier answer's conversation."
    )


class OfferedProcedureSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    confidence = serializers.FloatField(help_text="0–1.")
    deep_link = serializers.CharField(help_text="Opens the app on a new dossier of it.")


class AnswerSerializer(serializers.Serializer):
    conversation = serializers.UUIDField(source="turn.conversation_id")
    turn = serializers.IntegerField(source="turn.pk", help_text="For the feedback.")
    intent = serializers.ChoiceField(choices=Intent.choices, source="turn.intent")
    confidence = serializers.FloatField(source="reading.confidence", help_text="0–1.")
    answer = serializers.CharField(source="answer.text")
    procedures = OfferedProcedureSerializer(many=True, source="answer.procedures")
    suggestions = serializers.ListField(child=serializers.CharField(), source="answer.suggestions")
    data = serializers.DictField(
        source="answer.data",
        help_text="What the answer is about: `procedure` and `deep_link`, `dossier` and "
        "`status`, `household` and `code`, `ward`, or `faq`.",
    )


class FeedbackSerializer(serializers.Serializer):
    conversation = serializers.UUIDField()
    helpful = serializers.BooleanField()
