from django.apps import AppConfig


class PrmConfig(AppConfig):
    name = "prm"
    verbose_name = "OpenPRM core"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from prm.middleware import start_session_clock

        user_logged_in.connect(start_session_clock, dispatch_uid="prm.start_session_clock")
