from django.apps import AppConfig


class PrmConfig(AppConfig):
    name = "prm"
    verbose_name = "OpenPRM core"

    def ready(self):
        from allauth.mfa.signals import authenticator_removed
        from django.contrib.auth.signals import user_logged_in

        from prm.middleware import forget_mfa_enrolment, start_session_clock

        user_logged_in.connect(start_session_clock, dispatch_uid="prm.start_session_clock")
        authenticator_removed.connect(forget_mfa_enrolment, dispatch_uid="prm.forget_mfa")
