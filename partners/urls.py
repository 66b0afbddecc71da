from django.urls import path

from partners import views

app_name = "partners"
urlpatterns = [
    path("portal/", views.portal_home, name="portal_home"),
    path("portal/company/", views.company, name="company"),
    path("partners/", views.PartnerListView.as_view(), name="partner_list"),
    path("partners/export.csv", views.PartnerListView.as_view(export=True), name="partner_export"),
    path("partners/<int:pk>/", views.partner_detail, name="partner"),
    path("partners/<int:pk>/edit/", views.partner_edit, name="partner_edit"),
    path("partners/<int:pk>/status/", views.partner_status, name="partner_status"),
    path("partners/<int:pk>/contacts/add/", views.contact_add, name="contact_add"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/invite/", views.contact_invite, name="contact_invite"),
    path("contacts/<int:pk>/revoke/", views.contact_revoke, name="contact_revoke"),
    path("contacts/<int:pk>/disable/", views.contact_disable, name="contact_disable"),
    path("contacts/<int:pk>/enable/", views.contact_enable, name="contact_enable"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
