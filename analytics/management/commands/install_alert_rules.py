"""``manage.py install_alert_rules``: create the alert rules OpenPRM ships (idempotent)."""

from django.core.management.base import BaseCommand

from analytics.alerts import install_alert_rules
from analytics.models import AlertRule


class Command(BaseCommand):
    help = (
        "Create the shipped alert rules (registration waiting, lead not accepted, partner "
        "inactive, goal behind, certification expiring, opportunity overdue, detractor, account "
        "deactivated). A rule whose condition already has one is left as the admins set it."
    )

    def handle(self, *args, **options):
        created = install_alert_rules()
        for rule in created:
            self.stdout.write(f"  + {rule.name}")
        self.stdout.write(
            self.style.SUCCESS(f"{len(created)} alert rule(s) created")
            + f"; {AlertRule.objects.count()} in all. Change them in the admin (Alert rules)."
        )
