"""Benchmark of the KPI dashboards, goals and reports at scale: timings and SQL counts.

    .venv/bin/python benchmarks/analytics.py                 # 2,000 partners, a million rows
    .venv/bin/python benchmarks/analytics.py --scale 0.02    # 20k rows: a quick run
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python benchmarks/analytics.py --keep      # keep the database afterwards

PostgreSQL only (the KPIs' medians and the loader's SQL are PostgreSQL's). The script creates
its own database (``--database``, default ``openprm_bench_analytics``, dropped first if it is
there) on the server of ``DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432``),
migrates it, runs ``seed_demo --partners N``, then loads, with ``INSERT … SELECT`` over
``generate_series`` (not the ORM: a million rows in minutes), 600k opportunities and 400k leads
(a million rows between them), 200k deal registrations and the leads' history (assignments,
acceptances, rejections, lapses: about 750k steps), spread over every partner and the last 24
months with more recent than old (a rising trend), Northwind Systems holding 1% of them and the
rest a long tail. It runs ANALYZE, times the backfill of the kept monthly figures
(``manage.py refresh_analytics --months 24``, what an upgrade runs once), times
``analytics.services.refresh_scores`` for this quarter and the last and ``refresh_months`` (the
Celery refreshes: every partner, and one partner after a write), then prints per page the
median time of ``--repeat`` runs after a warm-up, the
slowest, the database's share and the SQL count, as the persona who uses it: a partner admin of
a big account (Alex, Northwind), a manager holding about a third of the partners (Leo), the
other manager (Maya, about 60%) and the admin. A page whose URL name does not exist yet is
skipped with a note. The database is dropped at the end unless ``--keep``; ``--reuse`` measures
again on a database kept by an earlier run (no reload; migrations applied, backfill rerun).
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PARTNER = "alex.admin@northwind.example"
MANAGER = "leo.manager@openprm.example"  # about a third of the partners
BIG_MANAGER = "maya.manager@openprm.example"  # about 60% of them
ADMIN = "admin@openprm.example"
NEWLINE = b"\n"

#: Rows loaded at --scale 1.
OPPORTUNITIES = 600_000
LEADS = 400_000
REGISTRATIONS = 200_000
DAYS = 730  # 24 months

# --- the database -------------------------------------------------------------------------------


def server_url(name: str) -> tuple[str, str]:
    """(the URL of database ``name``, the URL of the server's maintenance database)."""
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    parts = urlsplit(base)
    if not parts.scheme.startswith("postgres"):
        sys.exit("benchmarks/analytics.py needs PostgreSQL: DATABASE_URL=postgres://…")
    return (
        urlunsplit(parts._replace(path=f"/{name}")),
        urlunsplit(parts._replace(path="/postgres")),
    )


def recreate_database(maintenance: str, name: str, *, drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


# --- the loader ---------------------------------------------------------------------------------

#: Row ``g``'s partner: 1% Northwind, the rest a long tail over every partner (low ``idx`` are
#: the big ones). ``s.idx`` is drawn in the inner query, ``a`` is ``bench_accounts``.
ACCOUNT = "CASE WHEN s.g %% 100 = 0 THEN %(northwind)s ELSE a.id END"
# (The statements below are put together from this module's constants, never from input:
# hence the ``noqa: S608`` at the end of each.)
#: The inner query every INSERT draws from: row number, partner, four random numbers, and a
#: moment in the last 24 months, more of them recent than old (a rising trend).
DRAWS = f"""
    SELECT g, 1 + floor(power(random(), 2.5) * %(accounts)s)::int AS idx,
           random() AS r1, random() AS r2, random() AS r3, random() AS r4,
           now() - (1 - sqrt(random())) * interval '{DAYS} days' AS t
    FROM generate_series(1, %(count)s) AS g
"""  # noqa: S608
FAMILIES = "(ARRAY['Network security', 'Endpoint', 'Analytics', 'Services'])[1 + s.g %% 4]"
CUSTOMER = """
    'Bench Customer ' || s.g || ' {tag}', 'bench{tag}' || s.g || '.example',
    'benchcustomer' || s.g || '{tag}', 'bench{tag}' || s.g || '.example', 'bench{tag}' || s.g
"""
CUSTOMER_COLUMNS = "company, domain, customer_name_key, customer_domain, customer_domain_label"

OPPORTUNITIES_SQL = f"""
INSERT INTO deals_opportunity (
    {CUSTOMER_COLUMNS}, name, account_id, shared_with_account, product_family, stage_id,
    amount, currency, close_date, next_step, status, reason, closed_at, custom, created_at,
    updated_at
)
SELECT {CUSTOMER.format(tag="o")}, 'Bench deal ' || s.g, {ACCOUNT}, true, {FAMILIES},
    (%(stages)s::int[])[1 + floor(s.r3 * %(stage_count)s)::int],
    round((1000 + s.r2 * s.r2 * 250000)::numeric, 2),
    CASE WHEN s.r4 < 0.1 THEN 'EUR' ELSE 'USD' END,
    CASE WHEN s.r1 < 0.48 THEN LEAST(s.t + (10 + s.r3 * 120) * interval '1 day', now())::date
         ELSE current_date + (s.r2 * 360)::int - 60 END,
    '',
    CASE WHEN s.r1 < 0.30 THEN 'won' WHEN s.r1 < 0.48 THEN 'lost' ELSE 'open' END,
    '',
    CASE WHEN s.r1 < 0.48 THEN LEAST(s.t + (10 + s.r3 * 120) * interval '1 day', now()) END,
    '{{}}'::jsonb, s.t, s.t
FROM ({DRAWS}) s JOIN bench_accounts a ON a.idx = s.idx
"""  # noqa: S608

#: Lead statuses by ``r1``: new 5%, assigned 8%, accepted 30%, rejected 7% (back in the pool),
#: converted 30%, lost 20%.
LEAD_STATUS = """CASE WHEN s.r1 < 0.05 THEN 'new' WHEN s.r1 < 0.13 THEN 'assigned'
    WHEN s.r1 < 0.43 THEN 'accepted' WHEN s.r1 < 0.50 THEN 'rejected'
    WHEN s.r1 < 0.80 THEN 'converted' ELSE 'lost' END"""
LEADS_SQL = f"""
INSERT INTO deals_lead (
    {CUSTOMER_COLUMNS}, contact_name, contact_email, contact_phone, country, region, industry,
    estimated_value, currency, source, notes, status, account_id, assigned_at, accept_by,
    accepted_at, reason, custom, assignment_note, created_at, updated_at
)
SELECT {CUSTOMER.format(tag="l")}, 'Sam Bench', 'sam@benchl' || s.g || '.example', '',
    'Germany', (ARRAY['na', 'emea', 'apac', 'latam'])[1 + s.g %% 4], 'software',
    round((500 + s.r4 * 90000)::numeric, 2), 'USD', 'web', '', {LEAD_STATUS},
    CASE WHEN s.r1 < 0.05 OR (s.r1 >= 0.43 AND s.r1 < 0.50) THEN NULL ELSE {ACCOUNT} END,
    CASE WHEN s.r1 >= 0.05 THEN s.t + s.r2 * interval '24 hours' END,
    CASE WHEN s.r1 >= 0.05 AND s.r1 < 0.13 THEN now() + s.r3 * interval '48 hours' END,
    CASE WHEN (s.r1 >= 0.13 AND s.r1 < 0.43) OR s.r1 >= 0.50
         THEN s.t + s.r2 * interval '24 hours' + s.r3 * s.r3 * interval '72 hours' END,
    '', '{{}}'::jsonb, '', s.t, s.t
FROM ({DRAWS}) s JOIN bench_accounts a ON a.idx = s.idx
"""  # noqa: S608
#: The partner that turned down or let lapse a lead that is back in the pool.
POOL_ACCOUNT = "(SELECT id FROM bench_accounts WHERE idx = 1 + l.id %% %(accounts)s)"
LEAD_EVENTS_SQL = [
    # handed to the partner (the rejected ones to the partner that then turned them down)
    f"""INSERT INTO deals_leadevent (lead_id, from_status, to_status, account_id, reason,
        created_at)
    SELECT l.id, 'new', 'assigned', COALESCE(l.account_id, {POOL_ACCOUNT}), '', l.assigned_at
    FROM deals_lead l WHERE l.id > %(after)s AND l.assigned_at IS NOT NULL""",  # noqa: S608
    # accepted
    """INSERT INTO deals_leadevent (lead_id, from_status, to_status, account_id, reason,
        created_at)
    SELECT l.id, 'assigned', 'accepted', l.account_id, '', l.accepted_at
    FROM deals_lead l WHERE l.id > %(after)s AND l.accepted_at IS NOT NULL""",
    # rejected
    f"""INSERT INTO deals_leadevent (lead_id, from_status, to_status, account_id, reason,
        created_at)
    SELECT l.id, 'assigned', 'rejected', {POOL_ACCOUNT}, 'Outside our region',
        l.assigned_at + interval '5 hours'
    FROM deals_lead l WHERE l.id > %(after)s AND l.status = 'rejected'""",  # noqa: S608
    # let lapse: half the leads back in the pool
    f"""INSERT INTO deals_leadevent (lead_id, from_status, to_status, account_id, reason,
        created_at)
    SELECT l.id, 'assigned', 'new', {POOL_ACCOUNT}, %(lapsed)s, l.created_at + interval '2 days'
    FROM deals_lead l WHERE l.id > %(after)s AND l.status = 'new' AND l.id %% 2 = 0""",  # noqa: S608
]

#: Registration statuses by ``r1``: draft 5%, submitted 8%, returned 5%, approved 20% (expired
#: once its 90 days are over), rejected 12%, withdrawn 5%, expired 35%, converted 10%.
DECIDED_AT = "(s.t + s.r2 * interval '24 hours' + (1 + s.r3 * s.r3 * 160) * interval '1 hour')"
STILL_PROTECTED = f"({DECIDED_AT} + interval '90 days')::date >= current_date"
REGISTRATIONS_SQL = f"""
INSERT INTO deals_dealregistration (
    {CUSTOMER_COLUMNS}, account_id, shared_with_account, contact_name, contact_email,
    contact_phone, product_family, amount, currency, expected_close_date, competitors, notes,
    status, conflict, conflict_reasons, submitted_at, decided_at, decision_reason, expires_on,
    custom, created_at, updated_at
)
SELECT {CUSTOMER.format(tag="r")}, {ACCOUNT}, true, 'Pat Bench',
    'pat@benchr' || s.g || '.example', '', {FAMILIES},
    round((1000 + s.r4 * s.r4 * 200000)::numeric, 2), 'USD', (s.t + interval '60 days')::date,
    '', '',
    CASE WHEN s.r1 < 0.05 THEN 'draft' WHEN s.r1 < 0.13 THEN 'submitted'
         WHEN s.r1 < 0.18 THEN 'returned'
         WHEN s.r1 < 0.38 THEN CASE WHEN {STILL_PROTECTED} THEN 'approved' ELSE 'expired' END
         WHEN s.r1 < 0.50 THEN 'rejected' WHEN s.r1 < 0.55 THEN 'withdrawn'
         WHEN s.r1 < 0.90 THEN 'expired' ELSE 'converted' END,
    false, '',
    CASE WHEN s.r1 >= 0.05 AND NOT (s.r1 >= 0.50 AND s.r1 < 0.55)
         THEN s.t + s.r2 * interval '24 hours' END,
    CASE WHEN s.r1 >= 0.13 AND NOT (s.r1 >= 0.50 AND s.r1 < 0.55) THEN {DECIDED_AT} END,
    '',
    CASE WHEN (s.r1 >= 0.18 AND s.r1 < 0.38) OR s.r1 >= 0.55
         THEN ({DECIDED_AT} + interval '90 days')::date END,
    '{{}}'::jsonb, s.t, s.t
FROM ({DRAWS}) s JOIN bench_accounts a ON a.idx = s.idx
"""  # noqa: S608


def load(args) -> None:
    """The bulk rows, in SQL; prints each statement's time and row count."""
    from django.db import connection, transaction

    from deals.models import PipelineStage
    from deals.routing import LAPSED_REASON
    from partners.models import PartnerAccount

    northwind = PartnerAccount.objects.get(name="Northwind Systems").pk
    stages = list(PipelineStage.objects.order_by("position").values_list("pk", flat=True))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_accounts AS SELECT row_number() OVER "
            "(ORDER BY md5(id::text)) AS idx, id FROM partners_partneraccount "
            "WHERE status IN ('active', 'onboarding', 'inactive')"
        )
        cursor.execute("CREATE UNIQUE INDEX ON bench_accounts (idx)")
        cursor.execute("SELECT count(*) FROM bench_accounts")
        accounts = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(max(id), 0) FROM deals_lead")
        leads_before = cursor.fetchone()[0]
        params = {
            "northwind": northwind,
            "accounts": accounts,
            "stages": stages,
            "stage_count": len(stages),
            "lapsed": LAPSED_REASON,
            "after": leads_before,
        }
        steps = [
            ("opportunities", OPPORTUNITIES_SQL, round(OPPORTUNITIES * args.scale)),
            ("leads", LEADS_SQL, round(LEADS * args.scale)),
            ("registrations", REGISTRATIONS_SQL, round(REGISTRATIONS * args.scale)),
            *(("lead history", statement, None) for statement in LEAD_EVENTS_SQL),
        ]
        for label, statement, count in steps:
            started = time.perf_counter()
            cursor.execute(statement, {**params, "count": count or 0})
            print(
                f"  {label:16} {cursor.rowcount:>9,} rows {time.perf_counter() - started:7.1f} s",
                flush=True,
            )
        cursor.execute("DROP TABLE bench_accounts")


# --- measuring ----------------------------------------------------------------------------------


class Bench:
    def __init__(self, repeat: int):
        from django.db import connection

        self.connection = connection
        self.repeat = repeat
        self.clients: dict = {}
        print(
            f"\n{'what':58} {'median ms':>10} {'max ms':>8} {'SQL ms':>7} {'queries':>8} "
            f"{'result':>9}"
        )

    def client(self, email):
        from django.contrib.auth import get_user_model
        from django.test import Client

        if email not in self.clients:
            self.clients[email] = Client()
            self.clients[email].force_login(get_user_model().objects.get(email=email))
        return self.clients[email]

    def report(self, label, timings, queries, result):
        sql_ms = sum(float(q["time"]) for q in queries) * 1000
        print(
            f"{label:58} {statistics.median(timings):10.1f} {max(timings):8.1f} {sql_ms:7.0f} "
            f"{len(queries):8d} {result!s:>9}",
            flush=True,
        )

    def url(self, name, *args, query=""):
        """The URL of ``name``, or None (with a note) while that page does not exist yet."""
        from django.urls import NoReverseMatch, reverse

        try:
            return reverse(name, args=args) + (f"?{query}" if query else "")
        except NoReverseMatch:
            print(f"{'(skipped: no URL named ' + name + ' yet)':58}", flush=True)
            return None

    def page(self, email, label, url, *, repeat=None, csv=False):
        from django.db import reset_queries
        from django.test.utils import CaptureQueriesContext

        if url is None:
            return None
        client = self.client(email)
        repeat = repeat or self.repeat
        if repeat > 1:
            client.get(url)  # warm up
        timings = []
        for _ in range(repeat):
            reset_queries()  # see call()
            with CaptureQueriesContext(self.connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                body = (
                    b"".join(response.streaming_content)
                    if hasattr(response, "streaming_content")
                    else response.content
                )
                timings.append((time.perf_counter() - started) * 1000)
        result = response.status_code
        if csv and response.status_code == 200:
            result = f"{body.count(NEWLINE) - 1} rows"
        self.report(label, timings, queries.captured_queries, result)
        return response

    def call(self, label, fn, *, result=None):
        from django.db import reset_queries
        from django.test.utils import CaptureQueriesContext

        reset_queries()  # the log keeps 9,000 queries: once full, a capture would count none
        with CaptureQueriesContext(self.connection) as queries:
            started = time.perf_counter()
            out = fn()
            timing = (time.perf_counter() - started) * 1000
        self.report(label, [timing], queries.captured_queries, result(out) if result else "")
        return out


def bench_reports():
    """Two reports the admin defines and shares: opportunities grouped by stage (shared with
    partner admins too), and a plain list of opportunities (written through the report
    builder's checks when it exists)."""
    from django.contrib.auth import get_user_model

    from analytics.models import SavedReport

    admin = get_user_model().objects.get(email=ADMIN)
    specs = [
        ("Bench: opportunities by stage", ["name", "partner", "stage", "amount"], "stage", True),
        ("Bench: opportunities", ["name", "partner", "stage", "amount", "close_date"], "", False),
    ]
    out = []
    for name, columns, group, partners in specs:
        saved = SavedReport(
            name=name,
            record_type="opportunities",
            owner=admin,
            shared=True,
            shared_with_partners=partners,
        )
        try:
            from analytics import reports

            plan = reports.check(
                user=admin,
                record_type="opportunities",
                columns=columns,
                filters=[],
                group_by=group,
            )
            saved = reports.save_report(
                actor=admin,
                report=saved,
                plan=plan,
                name=name,
                description="",
                shared=True,
                shared_with_partners=partners,
            )
        except ImportError:
            saved.columns, saved.group_by = columns, group
            saved.save()
        out.append(saved)
    return out


def measure(args) -> None:
    from analytics import charts, kpis
    from partners.models import PartnerAccount

    bench = Bench(args.repeat)
    this = kpis.Period.current_quarter()
    northwind = PartnerAccount.objects.get(name="Northwind Systems").pk

    # ---- the kept scores behind the ranked table (what the Celery tasks run)
    from analytics.services import refresh_months, refresh_scores

    for period in (this, this.previous()):
        bench.call(
            f"refresh_scores, {period.label} (every partner)",
            lambda period=period: refresh_scores(period),
            result=lambda n: f"{n} rows",
        )
    bench.call(
        "refresh_months, this month and last (every partner)",
        refresh_months,
        result=lambda n: f"{n} rows",
    )
    bench.call(
        "refresh_months, this month and last (Northwind, a write)",
        lambda: refresh_months(account_ids=[northwind]),
        result=lambda n: f"{n} rows",
    )

    # ---- the partner's scorecard
    bench.page(PARTNER, "scorecard (partner admin, Northwind)", bench.url("analytics:scorecard"))
    bench.page(
        PARTNER,
        "scorecard, last quarter (partner admin)",
        bench.url("analytics:scorecard", query=f"period={this.previous().key}"),
    )
    bench.page(
        ADMIN,
        "account scorecard, Northwind (admin)",
        bench.url("analytics:account_scorecard", northwind),
    )
    bench.page(PARTNER, "goals (partner admin)", bench.url("analytics:goals"))

    # ---- the manager dashboard, the ranked table
    personas = (("manager, 1/3", MANAGER), ("manager, 60%", BIG_MANAGER), ("admin", ADMIN))
    for who, email in personas:
        bench.page(email, f"manager dashboard ({who})", bench.url("analytics:dashboard"))
    bench.page(
        ADMIN,
        "manager dashboard, year (admin)",
        bench.url("analytics:dashboard", query=f"period={this.start.year}"),
    )
    for who, email in personas:
        bench.page(
            email,
            f"ranked table, by won revenue ({who})",
            bench.url("analytics:ranking", query="sort=-won_revenue"),
        )
    bench.page(
        ADMIN,
        "ranked table, page 20, by health (admin)",
        bench.url("analytics:ranking", query="sort=-health_score&page=20"),
    )
    bench.page(
        ADMIN,
        "ranked table CSV (admin)",
        bench.url("analytics:ranking_export", query="sort=-won_revenue"),
        csv=True,
    )

    # ---- every chart of the dashboard, as CSV
    dashboard_charts = sorted(key for key in charts.REGISTRY if key.startswith("dashboard"))
    for key in dashboard_charts:
        for who, email in (("manager, 1/3", MANAGER), ("admin", ADMIN)):
            bench.page(
                email, f"chart CSV {key} ({who})", bench.url("analytics:chart_csv", key), csv=True
            )
    for key in sorted(k for k in charts.REGISTRY if k.startswith("scorecard")):
        bench.page(
            PARTNER, f"chart CSV {key} (partner)", bench.url("analytics:chart_csv", key), csv=True
        )

    # ---- reports
    if bench.url("analytics:report", 1) is not None:
        grouped, plain = bench_reports()
        for who, email in (("manager, 1/3", MANAGER), ("admin", ADMIN)):
            bench.page(
                email,
                f"report, opportunities by stage ({who})",
                bench.url("analytics:report", grouped.pk),
            )
            bench.page(
                email,
                f"report, opportunities, page 1 ({who})",
                bench.url("analytics:report", plain.pk),
            )
        bench.page(
            ADMIN,
            "report, opportunities, page 200 (admin)",
            bench.url("analytics:report", plain.pk, query="page=200"),
        )
        bench.page(
            PARTNER,
            "report, opportunities by stage (partner)",
            bench.url("analytics:report", grouped.pk),
        )
        bench.page(ADMIN, "report list (admin)", bench.url("analytics:report_list"))

    # ---- alert rules (issue 6): one query per rule per run, whatever the matches
    alert_rules(bench)


def alert_rules(bench) -> None:
    """Every shipped alert rule evaluated over the whole dataset (what the beat task runs): the
    first run raises the alerts (sent by a task, here eager), the second finds nothing new."""
    from analytics.alerts import evaluate_rule, install_alert_rules
    from analytics.models import AlertRule

    install_alert_rules()
    for rule in AlertRule.objects.filter(active=True).order_by("condition"):
        for run in ("first run", "again"):
            bench.call(
                f"alert rule {rule.condition}, {run}",
                lambda rule=rule: evaluate_rule(rule, send=False),
                result=lambda e: f"+{len(e.raised)} −{e.cleared}",
            )


def backfill() -> None:
    """The kept monthly figures of the 24 months loaded (what an upgrade runs once), timed."""
    from django.core.management import call_command
    from django.db import connection

    out = io.StringIO()
    started = time.perf_counter()
    call_command("refresh_analytics", months=24, stdout=out)
    took = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE analytics_accountmonth")
    print(f"backfill (refresh_analytics --months 24): {took:.1f} s — {out.getvalue().strip()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=2000)
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="share of the rows to load (1: 600k opportunities, 400k leads, 200k registrations)",
    )
    parser.add_argument("--database", default="openprm_bench_analytics")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure on the database an earlier --keep run left (no reload; implies --keep)",
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--nice", type=int, default=10, help="lower this process's CPU priority")
    args = parser.parse_args()
    if args.nice:
        os.nice(args.nice)

    url, maintenance = server_url(args.database)
    args.keep = args.keep or args.reuse
    if not args.reuse:
        recreate_database(maintenance, args.database)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prm.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections

    from deals.models import DealRegistration, Lead, LeadEvent, Opportunity
    from prm.celery import app

    app.conf.task_always_eager = True  # no worker here: run follow-up tasks inline
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    logging.getLogger("celery").setLevel(logging.WARNING)
    logging.getLogger("django.request").setLevel(logging.ERROR)  # a skipped page's 404
    try:
        print(
            f"database: {connection.vendor} {args.database}, partners: {args.partners}, "
            f"scale: {args.scale:g}"
        )
        call_command("migrate", verbosity=0)
        if not args.reuse:
            started = time.perf_counter()
            call_command("seed_demo", partners=args.partners, verbosity=0, stdout=io.StringIO())
            print(f"seed_demo --partners {args.partners}: {time.perf_counter() - started:.1f} s")
            started = time.perf_counter()
            print("bulk load (INSERT … SELECT generate_series):")
            load(args)
            loaded = time.perf_counter() - started
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            print(
                f"bulk load {loaded:.1f} s, ANALYZE {time.perf_counter() - started:.1f} s — "
                f"{Opportunity.objects.count():,} opportunities, {Lead.objects.count():,} leads, "
                f"{DealRegistration.objects.count():,} registrations, "
                f"{LeadEvent.objects.count():,} lead history steps"
            )
        backfill()
        measure(args)
    finally:
        connections.close_all()
        if not args.keep:
            recreate_database(maintenance, args.database, drop_only=True)
        else:
            print(f"\nkept: DATABASE_URL={url}")


if __name__ == "__main__":
    main()
