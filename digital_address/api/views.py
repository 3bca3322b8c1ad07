from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from django.utils.cache import patch_cache_control
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, status
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.api.permissions import IsOfficial
from accounts.models import AccessChannel, AccessPurpose
from config.openapi import ERROR_RESPONSE as ERROR
from config.validation import validated
from digital_address.actions import households as actions
from digital_address.api import serializers as s
from digital_address.events import household_read_record
from digital_address.models import Household, HouseholdInvitation, Province
from digital_address.plates import qr_png, qr_svg
from digital_address.selectors import (
    address_resolve,
    household_for_official,
    household_of,
    households_for_official,
    households_nearby,
    households_of,
    invitations_for,
    ward_search,
)


class UnitPagination(CursorPagination):
    page_size = 200
    ordering = "code"


class ProvinceListView(generics.ListAPIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    serializer_class = s.ProvinceSerializer
    pagination_class = None
    queryset = Province.objects.order_by("code")


@extend_schema(parameters=[s.WardQuerySerializer])
class WardListView(generics.ListAPIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    serializer_class = s.WardSerializer
    pagination_class = UnitPagination

    def get_queryset(self):
        params = s.WardQuerySerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return ward_search(
            province_code=params.validated_data.get("province"),
            query=params.validated_data.get("search"),
        )


def _render(household: Household, user) -> dict:
    return s.HouseholdSerializer(household_of(user=user, household_id=household.pk)).data


# --- citizens ----------------------------------------------------------------------------------


class HouseholdListView(APIView):
    @extend_schema(
        responses={200: s.HouseholdSerializer(many=True)},
        summary="The household I live in (a list of at most one)",
    )
    def get(self, request: Request) -> Response:
        return Response(s.HouseholdSerializer(households_of(user=request.user), many=True).data)

    @extend_schema(
        request=s.HouseholdCreateSerializer,
        responses={201: s.HouseholdSerializer, 400: ERROR, 409: ERROR},
        summary="Register my household: I become its head and it gets its address code",
    )
    def post(self, request: Request) -> Response:
        serializer = s.HouseholdCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        household = actions.household_create(
            actor=request.user,
            ward=serializer.validated_data["ward"],
            address=serializer.address(),
        )
        return Response(_render(household, request.user), status=status.HTTP_201_CREATED)


class HouseholdDetailView(APIView):
    @extend_schema(responses={200: s.HouseholdSerializer, 404: ERROR})
    def get(self, request: Request, pk: int) -> Response:
        return Response(
            s.HouseholdSerializer(household_of(user=request.user, household_id=pk)).data
        )

    @extend_schema(
        request=s.HouseholdUpdateSerializer,
        responses={200: s.HouseholdSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
        summary="Change the address or location",
        description="Only the fields sent change. A verified or rejected household goes back "
        "to `pending` (and a rejection's reason is cleared): an official of the ward verifies "
        "the new address.",
    )
    def patch(self, request: Request, pk: int) -> Response:
        household = household_of(user=request.user, household_id=pk)
        serializer = s.HouseholdUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        actions.household_update(
            actor=request.user, household=household, changes=serializer.validated_data
        )
        return Response(_render(household, request.user))


class HouseholdMemberListView(APIView):
    @extend_schema(
        request=s.MemberAddSerializer,
        responses={
            201: s.MemberSerializer,
            202: s.InvitationSerializer,
            400: ERROR,
            403: ERROR,
            404: ERROR,
        },
        summary="Add a member without an account, or invite one by phone",
        description="With `phone`: an invitation the invitee accepts in the app (202), valid 14 "
        "days; its `phone` is masked. The answer is the same whether or not the number has an "
        "account (the invitation waits for whoever registers with it). Inviting the same number "
        "again returns the pending invitation, with the relationship of the latest request. "
        "With `full_name` (and `date_of_birth`): a member without an account (201). Only the "
        "head: 403 `not_household_head`.",
    )
    def post(self, request: Request, pk: int) -> Response:
        household = household_of(user=request.user, household_id=pk)
        data = validated(s.MemberAddSerializer, request.data)
        if data.get("phone"):
            invitation = actions.member_invite(
                actor=request.user,
                household=household,
                phone=data["phone"],
                relationship=data["relationship"],
            )
            return Response(
                s.InvitationSerializer(invitation).data, status=status.HTTP_202_ACCEPTED
            )
        member = actions.member_add(
            actor=request.user,
            household=household,
            full_name=data["full_name"],
            date_of_birth=data.get("date_of_birth"),
            relationship=data["relationship"],
        )
        return Response(s.MemberSerializer(member).data, status=status.HTTP_201_CREATED)


class HouseholdMemberDetailView(APIView):
    @extend_schema(
        request=s.MemberUpdateSerializer,
        responses={200: s.MemberSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
        summary="Change a member: the head any member, a member their own flag",
        description="`needs_assistance`: the head for any member, a member for themself. "
        "`full_name`, `date_of_birth`: the head, for members without an account (with one: 400 "
        "on the field, they are the account's). Another member: 403 `not_household_head`.",
    )
    def patch(self, request: Request, pk: int, member_id: int) -> Response:
        household = household_of(user=request.user, household_id=pk)
        member = actions.member_update(
            actor=request.user,
            household=household,
            member_id=member_id,
            changes=validated(s.MemberUpdateSerializer, request.data),
        )
        return Response(s.MemberSerializer(member).data)

    @extend_schema(
        responses={204: None, 403: ERROR, 404: ERROR, 409: ERROR},
        summary="Remove a member (the head), or leave (the member)",
    )
    def delete(self, request: Request, pk: int, member_id: int) -> Response:
        household = household_of(user=request.user, household_id=pk)
        actions.member_remove(actor=request.user, household=household, member_id=member_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class HouseholdInvitationDetailView(APIView):
    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR, 409: ERROR})
    def delete(self, request: Request, pk: int, invitation_id: int) -> Response:
        household = household_of(user=request.user, household_id=pk)
        actions.invitation_cancel(
            actor=request.user, household=household, invitation_id=invitation_id
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class HouseholdMoveView(APIView):
    @extend_schema(
        request=s.HouseholdMoveSerializer,
        responses={201: s.HouseholdSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
        summary="Move: a new household at the new address; my current membership ends",
        description="I become the head of the new household (pending verification, with a "
        "new code). A head may bring members without an account (`bring_members`); a member "
        "with an account in it is 409 `invalid_transition` (`fields.bring_members`). When "
        "members with an account stay, `new_head` names one of them, else 400 "
        "`invalid_transition` (`fields.new_head`); members without an account left alone: 409 "
        "(`fields.bring_members`). A non-head sending either: 403 `not_household_head`. "
        "409 `concurrent_change`: the household changed at that moment; send it again.",
    )
    def post(self, request: Request) -> Response:
        serializer = s.HouseholdMoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        household = actions.household_move(
            actor=request.user,
            ward=serializer.validated_data["ward"],
            address=serializer.address(),
            bring_member_ids=serializer.validated_data.get("bring_members") or [],
            new_head_member_id=serializer.validated_data.get("new_head"),
        )
        return Response(_render(household, request.user), status=status.HTTP_201_CREATED)


@extend_schema(summary="Invitations to join a household, waiting for my answer")
class ReceivedInvitationListView(generics.ListAPIView):
    serializer_class = s.ReceivedInvitationSerializer
    pagination_class = None
    queryset = HouseholdInvitation.objects.none()  # for the schema; the real one is per user

    def get_queryset(self):
        return invitations_for(user=self.request.user)


class InvitationAcceptView(APIView):
    @extend_schema(
        request=s.InvitationAcceptSerializer,
        responses={200: s.HouseholdSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
        summary="Accept an invitation to join a household",
        description="Answers the household I joined. Living in another household: send "
        '`"leave_current": true` (else 409 `already_in_household`); that membership ends. As '
        "its head: when members with an account stay, `new_head` names one of them (else 400 "
        "`invalid_transition`, `fields.new_head`); members without an account must be removed "
        "first (409 `invalid_transition`, `fields.leave_current`). `new_head` from a non-head: "
        "403 `not_household_head`. Answered, cancelled, expired, or its household vacated: 409 "
        "`invitation_unavailable`. 409 `concurrent_change`: send it again.",
    )
    def post(self, request: Request, invitation_id: int) -> Response:
        data = validated(s.InvitationAcceptSerializer, request.data)
        member = actions.invitation_accept(
            actor=request.user,
            invitation_id=invitation_id,
            leave_current=data["leave_current"],
            new_head_member_id=data.get("new_head"),
        )
        return Response(_render(member.household, request.user))


class InvitationDeclineView(APIView):
    @extend_schema(request=None, responses={204: None, 404: ERROR, 409: ERROR})
    def post(self, request: Request, invitation_id: int) -> Response:
        actions.invitation_decline(actor=request.user, invitation_id=invitation_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- public addresses ---------------------------------------------------------------------------


class PublicView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "public"


CODE_PARAMETER = OpenApiParameter(
    "code",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="Native code (`06040-00123-7`, separators optional), plus code or external code",
)


def _resolve(request: Request, code: str) -> Household:
    params = validated(s.ResolveQuerySerializer, request.query_params)
    return address_resolve(code=code, scheme=params.get("scheme"))


@extend_schema(parameters=[CODE_PARAMETER, s.ResolveQuerySerializer])
class AddressResolveView(PublicView):
    @extend_schema(
        responses={200: s.PublicAddressSerializer, 400: ERROR, 404: ERROR},
        summary="Resolve any code of a household to its place (no personal data)",
    )
    def get(self, request: Request, code: str) -> Response:
        return Response(s.PublicAddressSerializer(_resolve(request, code)).data)


def plate_url(request: Request, household: Household) -> str:
    path = reverse("address-plate", args=[household.formatted_code])
    base = settings.PUBLIC_BASE_URL
    return f"{base}{path}" if base else request.build_absolute_uri(path)


class AddressQrView(PublicView):
    fmt = "svg"
    content_type = "image/svg+xml"

    def get(self, request: Request, code: str) -> HttpResponse:
        household = _resolve(request, code)
        render = qr_svg if self.fmt == "svg" else qr_png
        response = HttpResponse(
            render(plate_url(request, household)), content_type=self.content_type
        )
        response["Content-Disposition"] = f'inline; filename="{household.code}.{self.fmt}"'
        patch_cache_control(response, public=True, max_age=86400)
        return response


QR_DESCRIPTION = (
    "The QR code of the house plate (error correction M). It encodes `/a/{code}` on the public "
    "site: a page naming the place, which any phone camera opens. Cached a day "
    "(`Cache-Control: public, max-age=86400`); `Content-Disposition: inline` with a file name."
)


@extend_schema_view(
    get=extend_schema(
        parameters=[CODE_PARAMETER, s.ResolveQuerySerializer],
        responses={
            (200, "image/svg+xml"): OpenApiResponse(OpenApiTypes.BINARY),
            400: ERROR,
            404: ERROR,
        },
        summary="House plate QR code, SVG (scalable, for printing)",
        operation_id="addresses_qr_svg",
        description=QR_DESCRIPTION,
    )
)
class AddressQrSvgView(AddressQrView):
    fmt = "svg"
    content_type = "image/svg+xml"


@extend_schema_view(
    get=extend_schema(
        parameters=[CODE_PARAMETER, s.ResolveQuerySerializer],
        responses={
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY),
            400: ERROR,
            404: ERROR,
        },
        summary="House plate QR code, PNG",
        operation_id="addresses_qr_png",
        description=QR_DESCRIPTION,
    )
)
class AddressQrPngView(AddressQrView):
    fmt = "png"
    content_type = "image/png"


class AddressNearbyView(APIView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "public"

    @extend_schema(
        parameters=[s.NearbyQuerySerializer],
        responses={200: s.NearbySerializer(many=True), 400: ERROR},
        summary="Households near a point, nearest first (for picking a house on the map)",
    )
    def get(self, request: Request) -> Response:
        params = validated(s.NearbyQuerySerializer, request.query_params)
        found = households_nearby(
            lat=float(params["lat"]),
            lng=float(params["lng"]),
            radius_m=params["radius"],
            limit=params["limit"],
        )
        distances = {n.household.pk: n.distance_m for n in found}
        return Response(
            s.NearbySerializer(
                [n.household for n in found], many=True, context={"distances": distances}
            ).data
        )


# --- officials --------------------------------------------------------------------------------


class CanViewHouseholds(BasePermission):
    """The household roles (accounts/roles.py): an official with no role reads no household."""

    def has_permission(self, request, view) -> bool:
        return request.user.has_perm("digital_address.view_household")


class OfficialPagination(CursorPagination):
    page_size = 50
    ordering = "-id"


def _official_household(request: Request, pk: int) -> Household:
    """The household with its members, for an official: every member shown is in the access
    log, read for the household's verification."""
    household = household_for_official(official=request.user, household_id=pk)
    household_read_record(
        official=request.user,
        household=household,
        members=household.current_members,
        channel=AccessChannel.API,
        purpose=AccessPurpose.HOUSEHOLD_VERIFICATION,
    )
    return household


@extend_schema(parameters=[s.OfficialQuerySerializer])
class OfficialHouseholdListView(generics.ListAPIView):
    """The verification queue (``?status=pending``) of my wards. No personal data in the list:
    names are in the detail, whose every read is in the access log."""

    permission_classes = [IsOfficial, CanViewHouseholds]
    serializer_class = s.OfficialHouseholdListSerializer
    pagination_class = OfficialPagination

    def get_queryset(self):
        params = validated(s.OfficialQuerySerializer, self.request.query_params)
        return households_for_official(
            official=self.request.user,
            status=params.get("status"),
            ward_code=params.get("ward"),
        )


class OfficialHouseholdDetailView(APIView):
    permission_classes = [IsOfficial, CanViewHouseholds]

    @extend_schema(responses={200: s.OfficialHouseholdSerializer, 404: ERROR})
    def get(self, request: Request, pk: int) -> Response:
        household = _official_household(request, pk)
        return Response(s.OfficialHouseholdSerializer(household).data)


def _official_render(request: Request, household: Household) -> dict:
    fresh = _official_household(request, household.pk)
    return s.OfficialHouseholdSerializer(fresh).data


class OfficialMemberAssistanceView(APIView):
    permission_classes = [IsOfficial]

    @extend_schema(
        request=s.MemberAssistanceSerializer,
        responses={200: s.MemberSerializer, 400: ERROR, 404: ERROR},
        summary="Flag a member of a household of my wards as needing help in emergencies",
        description="Officials who verify households (their wards only; others: 404). The "
        "broadcasts' check-in report lists flagged members among the vulnerable.",
    )
    def patch(self, request: Request, pk: int, member_id: int) -> Response:
        household = household_for_official(official=request.user, household_id=pk)
        data = validated(s.MemberAssistanceSerializer, request.data)
        member = actions.member_assistance_set(
            actor=request.user,
            household=household,
            member_id=member_id,
            needs_assistance=data["needs_assistance"],
        )
        household_read_record(
            official=request.user,
            household=household,
            members=[member],
            channel=AccessChannel.API,
            purpose=AccessPurpose.EMERGENCY_RESPONSE,
        )
        return Response(s.MemberSerializer(member).data)


class OfficialHouseholdVerifyView(APIView):
    permission_classes = [IsOfficial]

    @extend_schema(
        request=s.DecisionSerializer,
        responses={200: s.OfficialHouseholdSerializer, 404: ERROR, 409: ERROR},
    )
    def post(self, request: Request, pk: int) -> Response:
        household = household_for_official(official=request.user, household_id=pk)
        data = validated(s.DecisionSerializer, request.data)
        actions.household_verify(
            actor=request.user, household=household, seen_updated_at=data.get("updated_at")
        )
        return Response(_official_render(request, household))


class OfficialHouseholdRejectView(APIView):
    permission_classes = [IsOfficial]

    @extend_schema(
        request=s.RejectSerializer,
        responses={200: s.OfficialHouseholdSerializer, 400: ERROR, 404: ERROR, 409: ERROR},
    )
    def post(self, request: Request, pk: int) -> Response:
        household = household_for_official(official=request.user, household_id=pk)
        data = validated(s.RejectSerializer, request.data)
        actions.household_reject(
            actor=request.user,
            household=household,
            reason=data["reason"],
            seen_updated_at=data.get("updated_at"),
        )
        return Response(_official_render(request, household))


class OfficialExternalCodeView(APIView):
    permission_classes = [IsOfficial]

    @extend_schema(
        request=s.ExternalCodeInputSerializer,
        responses={201: s.ExternalCodeSerializer, 400: ERROR, 404: ERROR, 409: ERROR},
        summary="Attach an external code (national digital-address code, Vpostcode)",
    )
    def post(self, request: Request, pk: int) -> Response:
        household = household_for_official(official=request.user, household_id=pk)
        data = validated(s.ExternalCodeInputSerializer, request.data)
        attached = actions.external_code_attach(
            actor=request.user, household=household, scheme=data["scheme"], code=data["code"]
        )
        return Response(s.ExternalCodeSerializer(attached).data, status=status.HTTP_201_CREATED)
