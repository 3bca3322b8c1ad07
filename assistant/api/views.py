from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from assistant.actions import assistant_ask, turn_feedback
from assistant.api import serializers as s
from config.openapi import ERROR_RESPONSE as ERROR
from config.validation import validated


class _Open(APIView):
    # Anyone may ask; a logged-in asker also gets their own dossiers and household.
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "assistant"


class AskView(_Open):
    @extend_schema(
        request=s.AskSerializer,
        responses={200: s.AnswerSerializer, 400: ERROR, 404: ERROR},
        summary="Ask the virtual assistant a question about procedures, dossiers, addresses",
        description="The answer comes from the catalog, the communes' desks, the FAQ, and (when "
        "logged in) the asker's own dossiers and household. Below its confidence threshold the "
        "intent is `none`: it says so and offers the closest procedures. Send the answer's "
        "`conversation` with the next question to continue it.",
    )
    def post(self, request: Request) -> Response:
        data = validated(s.AskSerializer, request.data)
        user = request.user if request.user.is_authenticated else None
        asked = assistant_ask(
            question=data["question"], user=user, conversation_id=data.get("conversation")
        )
        return Response(s.AnswerSerializer(asked).data)


class FeedbackView(_Open):
    @extend_schema(
        request=s.FeedbackSerializer,
        responses={204: None, 400: ERROR, 404: ERROR},
        summary="Thumbs up or down on an answer (its conversation's id as the key)",
    )
    def post(self, request: Request, turn_id: int) -> Response:
        data = validated(s.FeedbackSerializer, request.data)
        user = request.user if request.user.is_authenticated else None
        turn_feedback(
            turn_id=turn_id,
            conversation_id=data["conversation"],
            user=user,
            helpful=data["helpful"],
        )
        return Response(status=204)
