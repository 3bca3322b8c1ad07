from __future__ import annotations

from django.urls import path, re_path

from digital_address.api import imports, views

urlpatterns = [
    path("admin-units/provinces/", views.ProvinceListView.as_view(), name="province-list"),
    path("admin-units/wards/", views.WardListView.as_view(), name="ward-list"),
    path("households/", views.HouseholdListView.as_view(), name="household-list"),
    path("households/move/", views.HouseholdMoveView.as_view(), name="household-move"),
    path(
        "households/invitations/",
        views.ReceivedInvitationListView.as_view(),
        name="household-invitations",
    ),
    path(
        "households/invitations/<id:invitation_id>/accept/",
        views.InvitationAcceptView.as_view(),
        name="household-invitation-accept",
    ),
    path(
        "households/invitations/<id:invitation_id>/decline/",
        views.InvitationDeclineView.as_view(),
        name="household-invitation-decline",
    ),
    path("households/<id:pk>/", views.HouseholdDetailView.as_view(), name="household-detail"),
    path(
        "households/<id:pk>/members/",
        views.HouseholdMemberListView.as_view(),
        name="household-members",
    ),
    path(
        "households/<id:pk>/members/<id:member_id>/",
        views.HouseholdMemberDetailView.as_view(),
        name="household-member",
    ),
    path(
        "households/<id:pk>/invitations/<id:invitation_id>/",
        views.HouseholdInvitationDetailView.as_view(),
        name="household-invitation",
    ),
    path("addresses/nearby/", views.AddressNearbyView.as_view(), name="address-nearby"),
    re_path(
        r"^addresses/(?P<code>[^/]{1,64})/qr\.svg$",
        views.AddressQrSvgView.as_view(),
        name="address-qr-svg",
    ),
    re_path(
        r"^addresses/(?P<code>[^/]{1,64})/qr\.png$",
        views.AddressQrPngView.as_view(),
        name="address-qr-png",
    ),
    path("addresses/<str:code>/", views.AddressResolveView.as_view(), name="address-resolve"),
    path(
        "official/households/",
        views.OfficialHouseholdListView.as_view(),
        name="official-household-list",
    ),
    path(
        "official/households/import/",
        imports.OfficialHouseholdImportView.as_view(),
        name="official-household-import",
    ),
    path(
        "official/households/<id:pk>/",
        views.OfficialHouseholdDetailView.as_view(),
        name="official-household-detail",
    ),
    path(
        "official/households/<id:pk>/members/<id:member_id>/",
        views.OfficialMemberAssistanceView.as_view(),
        name="official-household-member",
    ),
    path(
        "official/households/<id:pk>/verify/",
        views.OfficialHouseholdVerifyView.as_view(),
        name="official-household-verify",
    ),
    path(
        "official/households/<id:pk>/reject/",
        views.OfficialHouseholdRejectView.as_view(),
        name="official-household-reject",
    ),
    path(
        "official/households/<id:pk>/external-codes/",
        views.OfficialExternalCodeView.as_view(),
        name="official-household-external-codes",
    ),
]
