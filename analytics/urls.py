from django.urls import path

from analytics.views import (
    alerts,
    charts,
    dashboard,
    goals,
    reports,
    reviews,
    scorecard,
    surveys,
)

app_name = "analytics"
urlpatterns = [
    path("charts/<slug:key>.csv", charts.chart_csv, name="chart_csv"),
    path("dashboard/", scorecard.scorecard, name="scorecard"),
    path("partners/<int:pk>/scorecard/", scorecard.account_scorecard, name="account_scorecard"),
    path("goals/", goals.goals, name="goals"),
    path("partners/<int:pk>/goals/", goals.account_goals, name="account_goals"),
    path("goals/<int:pk>/accept/", goals.goal_accept, name="goal_accept"),
    path("goals/<int:pk>/delete/", goals.goal_delete, name="goal_delete"),
    path("reports/", reports.report_list, name="report_list"),
    path("reports/add/", reports.report_add, name="report_add"),
    path("reports/<int:pk>/", reports.report, name="report"),
    path("reports/<int:pk>/edit/", reports.report_edit, name="report_edit"),
    path("reports/<int:pk>/delete/", reports.report_delete, name="report_delete"),
    path("reports/<int:pk>/export.csv", reports.report_export_csv, name="report_export_csv"),
    path("reports/<int:pk>/export.xlsx", reports.report_export_xlsx, name="report_export_xlsx"),
    path("alerts/", alerts.alert_list, name="alert_list"),
    path("alerts/<int:pk>/acknowledge/", alerts.alert_acknowledge, name="alert_acknowledge"),
    path("alerts/<int:pk>/snooze/", alerts.alert_snooze, name="alert_snooze"),
    path("surveys/", surveys.survey_list, name="survey_list"),
    path("surveys/<int:pk>/results/", surveys.survey_results, name="survey_results"),
    path("surveys/answer/<str:token>/", surveys.survey_answer, name="survey_answer"),
    path("reviews/", reviews.review_list, name="review_list"),
    path("reviews/<int:pk>/", reviews.review, name="review"),
    path("reviews/<int:pk>/edit/", reviews.review_edit, name="review_edit"),
    path("reviews/<int:pk>/acknowledge/", reviews.review_acknowledge, name="review_acknowledge"),
    path("manager/dashboard/", dashboard.dashboard, name="dashboard"),
    path("manager/dashboard/partners/", dashboard.RankingView.as_view(), name="ranking"),
    path(
        "manager/dashboard/partners/export.csv",
        dashboard.RankingView.as_view(export=True),
        name="ranking_export",
    ),
]
