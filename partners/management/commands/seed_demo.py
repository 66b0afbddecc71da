"""``manage.py seed_demo [--partners N]``: load the demo data (idempotent; see partners.demo)."""

import importlib
import importlib.util
import time

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from partners.demo import DEMO_PASSWORD, seed_demo
from partners.models import AccountStatus, AuditEntry, Contact, PartnerAccount


class Command(BaseCommand):
    help = (
        "Load demo data: tiers, workspaces, internal users, N partner companies with contacts, "
        "and the demo logins. Running it again only adds what is missing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--partners",
            type=int,
            default=40,
            help="How many partner accounts, the three fixed demo accounts included (default 40).",
        )

    def handle(self, *args, partners, **options):
        if partners < 0:
            raise CommandError("--partners must be zero or more.")
        started = time.monotonic()
        report = seed_demo(partners=partners)
        # Every other app seeds its own demo data (``<app>.demo.seed(report)``), in the order of
        # INSTALLED_APPS, so that partners does not import the apps that build on it.
        for config in apps.get_app_configs():
            if config.name != "partners" and importlib.util.find_spec(f"{config.name}.demo"):
                seeder = getattr(importlib.import_module(f"{config.name}.demo"), "seed", None)
                if seeder is not None:
                    seeder(report)
        elapsed = time.monotonic() - started

        created = ", ".join(f"{n} {what}" for what, n in report.created.items() if n)
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready in {elapsed:.1f}s.")
            + f" Created: {created or 'nothing (already loaded)'}."
        )
        statuses = dict(
            PartnerAccount.objects.values_list("status").annotate(n=Count("pk")).order_by()
        )
        self.stdout.write(
            f"In the database: {sum(statuses.values())} partner accounts ("
            + ", ".join(
                f"{statuses[value]} {label.lower()}"
                for value, label in AccountStatus.choices
                if statuses.get(value)
            )
            + f"), {Contact.objects.count()} contacts, {AuditEntry.objects.count()} audit entries."
        )
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password {DEMO_PASSWORD}, set when the user was created):")
        width = max(len(email) for email, _, _ in report.logins)
        for email, name, role in report.logins:
            self.stdout.write(f"  {email:<{width}}  {name} ({role})")
