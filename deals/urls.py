from django.urls import path

from deals.views import leads

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
    # registrations
    # opportunities
]
