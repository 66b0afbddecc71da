"""Root URLs."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from prm import views

# The admin's own login form is replaced by allauth's: its rate limits and MFA apply there too.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "OpenPRM administration"
admin.site.site_title = "OpenPRM admin"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    # the bell
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/menu/", views.notification_menu, name="notifications_menu"),
    path("notifications/read-all/", views.notifications_read_all, name="notifications_read_all"),
    path("notifications/<int:pk>/open/", views.notification_open, name="notification_open"),
    # email preferences: signed in, and at the signed links of every email (no sign-in)
    path(
        "account/email-preferences/",
        views.notification_preferences,
        name="notification_preferences",
    ),
    path(
        "email/preferences/<str:token>/",
        views.notification_preferences_signed,
        name="notification_preferences_signed",
    ),
    path(
        "email/unsubscribe/<str:token>/",
        views.notification_unsubscribe,
        name="notification_unsubscribe",
    ),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("", include("partners.urls")),
    path("", include("deals.urls")),
    path("", include("training.urls")),
    path("", include("analytics.urls")),
]
