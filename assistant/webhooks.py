"""Chat platforms call these: ``POST /webhooks/{channel}/`` (Zalo OA: ``/webhooks/zalo/``).
Not part of the app's API: the caller is the platform, signing each call. The messages are
saved and answered by a task, so the platform gets its 200 at once."""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from assistant.channel_flow import channel_messages_receive
from assistant.channels import MalformedEvent, get_channel
from config.errors import ErrorResponse, error_body

log = logging.getLogger(__name__)


@csrf_exempt
def channel_webhook(request: HttpRequest, name: str) -> JsonResponse:
    if request.method != "POST":
        response = ErrorResponse(
            error_body("method_not_allowed", _("Method not allowed.")), status=405
        )
        response["Allow"] = "POST"
        return response
    channel = get_channel(name)
    if channel is None:  # unknown, or not configured in this deployment
        return ErrorResponse(error_body("not_found", _("Not found.")), status=404)
    body = request.body
    if not channel.verify(request.headers, body):
        log.warning("%s webhook: bad or missing signature", channel.name)
        return ErrorResponse(
            error_body("bad_signature", _("The signature does not match.")), status=401
        )
    try:
        messages = channel.parse(body)
    except MalformedEvent:
        return ErrorResponse(error_body("malformed", _("Malformed event.")), status=400)
    new = channel_messages_receive(channel=channel, messages=messages)
    return JsonResponse({"received": len(messages), "new": new})
