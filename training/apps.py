from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"

    def ready(self):
        from prm.portal import register_home_panel
        from training import tasks  # noqa: F401 - registers the tasks other apps enqueue by name
        from training.views.onboarding import home_panel_context

        register_home_panel(
            "onboarding", "training/partials/onboarding_home_panel.html", home_panel_context
        )
