from django.urls import path

from deals.views import leads, opportunities, registrations

app_name = "deals"
urlpatterns = [
    # leads
    path("leads/", leads.LeadListView.as_view(), name="lead_list"),
    path("leads/export.csv", leads.LeadListView.as_view(export=True), name="lead_export"),
    path("leads/add/", leads.lead_add, name="lead_add"),
    path("leads/<int:pk>/", leads.lead_detail, name="lead"),
    path("leads/<int:pk>/accept/", leads.lead_accept, name="lead_accept"),
    path("leads/<int:pk>/reject/", leads.lead_reject, name="lead_reject"),
    path("leads/<int:pk>/assign/", leads.lead_assign, name="lead_assign"),
    path("leads/<int:pk>/lost/", leads.lead_lost, name="lead_lost"),
    path("leads/<int:pk>/route/", leads.lead_route, name="lead_route"),
    path("leads/route/", leads.lead_route_all, name="lead_route_all"),
    # registrations
    path("registrations/", registrations.RegistrationListView.as_view(), name="registration_list"),
    path(
        "registrations/export.csv",
        registrations.RegistrationListView.as_view(export=True),
        name="registration_export",
    ),
    path("registrations/add/", registrations.registration_add, name="registration_add"),
    path(
        "registrations/precheck/",
        registrations.registration_precheck,
        name="registration_precheck",
    ),
    path("registrations/review/", registrations.ReviewQueueView.as_view(), name="review_queue"),
    path("registrations/<int:pk>/", registrations.registration_detail, name="registration"),
    path("registrations/<int:pk>/edit/", registrations.registration_edit, name="registration_edit"),
    path(
        "registrations/<int:pk>/submit/",
        registrations.registration_submit,
        name="registration_submit",
    ),
    path(
        "registrations/<int:pk>/withdraw/",
        registrations.registration_withdraw,
        name="registration_withdraw",
    ),
    path(
        "registrations/<int:pk>/conflicts/",
        registrations.registration_conflicts,
        name="registration_conflicts",
    ),
    path(
        "registrations/<int:pk>/decide/",
        registrations.registration_decide,
        name="registration_decide",
    ),
    path(
        "registrations/<int:pk>/extend/",
        registrations.registration_extend,
        name="registration_extend",
    ),
    path(
        "registrations/extensions/<int:pk>/decide/",
        registrations.extension_decide,
        name="extension_decide",
    ),
    # opportunities
    path("opportunities/", opportunities.OpportunityListView.as_view(), name="opportunity_list"),
    path(
        "opportunities/export.csv",
        opportunities.OpportunityListView.as_view(export=True),
        name="opportunity_export",
    ),
    path("opportunities/board/", opportunities.opportunity_board, name="opportunity_board"),
    path("opportunities/<int:pk>/", opportunities.opportunity_detail, name="opportunity"),
    path("opportunities/<int:pk>/move/", opportunities.opportunity_move, name="opportunity_move"),
    path(
        "opportunities/<int:pk>/close/", opportunities.opportunity_close, name="opportunity_close"
    ),
    path("leads/<int:pk>/convert/", opportunities.lead_convert, name="lead_convert"),
    path(
        "registrations/<int:pk>/convert/",
        opportunities.registration_convert,
        name="registration_convert",
    ),
]
