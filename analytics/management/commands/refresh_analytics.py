"""``manage.py refresh_analytics [--months N]``: recompute the kept monthly figures of every
partner (``AccountMonth``) for the last N months, this one included, and this quarter's and last
quarter's partner scores. Run it once after upgrading (it fills the history the dashboards sum),
and again after changing an exchange rate or editing old deals in bulk; the tasks keep the
current and the previous month fresh after that."""

import time

from django.core.management.base import BaseCommand, CommandError

from analytics import kpis
from analytics.services import refresh_months, refresh_scores


class Command(BaseCommand):
    help = (
        "Recompute every partner's kept monthly figures for the last N months (default 24) "
        "and the partner scores of this quarter and the last."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--months",
            type=int,
            default=24,
            help="How many months back, the current one included (default 24).",
        )

    def handle(self, *args, months, **options):
        if months < 1:
            raise CommandError("--months must be 1 or more.")
        started = time.monotonic()
        rows = refresh_months(months)
        quarter = kpis.Period.current_quarter()
        scores = refresh_scores(quarter) + refresh_scores(quarter.previous())
        self.stdout.write(
            self.style.SUCCESS(
                f"Refreshed {rows:,} monthly rows over {months} months and {scores:,} partner "
                f"scores in {time.monotonic() - started:.1f} s."
            )
        )
