from django.urls import path

from deals import views

app_name = "deals"
urlpatterns = [
    path("leads/", views.LeadListView.as_view(), name="lead_list"),
    path("leads/export.csv", views.LeadListView.as_view(export=True), name="lead_export"),
    path("leads/add/", views.lead_add, name="lead_add"),
    path("leads/<int:pk>/", views.lead_detail, name="lead"),
    path("leads/<int:pk>/accept/", views.lead_accept, name="lead_accept"),
    path("leads/<int:pk>/reject/", views.lead_reject, name="lead_reject"),
    path("leads/<int:pk>/assign/", views.lead_assign, name="lead_assign"),
    path("leads/<int:pk>/lost/", views.lead_lost, name="lead_lost"),
]
