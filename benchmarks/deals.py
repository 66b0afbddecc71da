"""Benchmark of the deals pages and jobs at scale: timings and SQL counts.

    .venv/bin/python benchmarks/deals.py                      # 200k registrations, 100k each
    .venv/bin/python benchmarks/deals.py --registrations 20000 --opportunities 10000 \
        --leads 10000                                         # a quick run
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/openprm_dbench \
        .venv/bin/python benchmarks/deals.py

Without DATABASE_URL it works in a throw-away SQLite file; with one, on that database (which it
migrates and seeds: use a scratch, empty database). It runs ``seed_demo --partners N``, then
bulk-creates registrations (with their product lines and a history step), opportunities and
leads spread over the partner accounts (a few big partners, Northwind among them, and a long
tail), then prints per page or job the median time, the slowest run and the SQL count, as the
persona who uses it: the manager (Maya), the admin and a partner admin (Alex, Northwind).
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MANAGER = "maya.manager@openprm.example"
ADMIN = "admin@openprm.example"
PARTNER = "alex.admin@northwind.example"
BATCH = 2000
NEWLINE = b"\n"

# --- customers ----------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


FIRST = _words(
    "Acme Apex Atlas Aurora Beacon Birch Blue Bright Cedar Clear Cobalt Coral Crest Delta Eagle "
    "Echo Ember Falcon Fjord Granite Green Harbor Hawk Horizon Iron Juniper Keystone Lake Lumen "
    "Maple Meridian Mesa Nova Oak Orbit Pacific Peak Pine Pioneer Polar Prairie Quartz Rapid "
    "Raven River Rock Sage Sierra Silver Sky Solar Spruce Stone Summit Sun Terra Tide Titan "
    "Vale Vista Willow Zenith"
)
SECOND = _words(
    "Analytics Bank Bricks Capital Chemicals Clinics Components Construction Credit Dairy Data "
    "Devices Energy Engineering Farms Finance Foods Freight Games Glass Health Hotels Insurance "
    "Labs Lending Logistics Machines Media Medical Metals Mining Motors Networks Optics Paper "
    "Pharma Plastics Power Retail Robotics Shipping Software Steel Systems Telecom Textiles "
    "Tools Transit Travel Water Wind Works"
)
LEGAL = ["Inc.", "Ltd", "GmbH", "LLC", "Corp.", "S.A.", "AG", "plc", "", "", "", ""]
FAMILY_REGION = ["na", "emea", "apac", "latam"]
INDUSTRIES = [
    "software",
    "manufacturing",
    "finance",
    "healthcare",
    "retail",
    "public",
    "energy",
    "other",
]


def customers(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """``count`` distinct (company, domain) pairs."""
    seen, out = set(), []
    while len(out) < count:
        first, second = rng.choice(FIRST), rng.choice(SECOND)
        n = rng.randrange(1, 40)
        slug = f"{first}{second}{n}".lower()
        if slug in seen:
            continue
        seen.add(slug)
        out.append((f"{first} {second} {n} {rng.choice(LEGAL)}".strip(), f"{slug}.example"))
    return out


def spelling(rng: random.Random, company: str, domain: str) -> tuple[str, str]:
    """The same customer as another partner might type it."""
    roll = rng.random()
    if roll < 0.15:
        return company.upper(), f"www.{domain}"
    if roll < 0.25:
        return company, ""  # no domain: the name alone must match
    if roll < 0.3:
        return company.split(" ")[0] + " " + company.split(" ")[1], f"sales.{domain}"
    return company, domain


@contextmanager
def no_auto_now(*models):
    """bulk_create keeps the spread-out created_at/updated_at we give (not "now")."""
    fields = [
        f
        for model in models
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, now, add in saved:
            f.auto_now, f.auto_now_add = now, add


def weighted_accounts(rng, accounts, northwind_pk, count, northwind_share=0.01):
    """``count`` account picks: Northwind ``northwind_share``, the rest a long tail (Zipf-like)."""
    others = [a for a in accounts if a != northwind_pk]
    weights = [1 / (rank + 20) for rank in range(len(others))]
    picks = rng.choices(others, weights=weights, k=count)
    for i in rng.sample(range(count), int(count * northwind_share)):
        picks[i] = northwind_pk
    return picks


# --- seeding ------------------------------------------------------------------------------------


def seed_deals(args, rng: random.Random) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from deals.models import (
        DealRegistration,
        Lead,
        LeadStatus,
        Opportunity,
        OpportunityStatus,
        PipelineStage,
        Product,
        RegistrationEvent,
        RegistrationLine,
        RegistrationStatus,
    )
    from partners.models import AccountStatus, PartnerAccount

    S = RegistrationStatus
    user = get_user_model()
    partner_user = user.objects.get(email=PARTNER)
    northwind = PartnerAccount.objects.get(name="Northwind Systems").pk
    accounts = list(
        PartnerAccount.objects.filter(
            status__in=[AccountStatus.ACTIVE, AccountStatus.ONBOARDING, AccountStatus.INACTIVE]
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    rng.shuffle(accounts)
    products = list(Product.objects.filter(active=True))
    by_family: dict[str, list] = {}
    for product in products:
        by_family.setdefault(product.family, []).append(product)
    families = sorted(by_family)
    stages = list(PipelineStage.objects.order_by("position"))
    now = timezone.now()
    today = timezone.localdate()
    pool = customers(rng, max(args.registrations // 2, 2000))
    # A few customers everybody chases: where conflicts come from.
    hot = pool[: max(len(pool) // 50, 20)]

    def pick_customer():
        company, domain = rng.choice(hot) if rng.random() < 0.2 else rng.choice(pool)
        return spelling(rng, company, domain)

    # ---- registrations
    statuses = [
        (S.DRAFT, 8),
        (S.SUBMITTED, 10),
        (S.RETURNED, 3),
        (S.APPROVED, 25),
        (S.REJECTED, 8),
        (S.WITHDRAWN, 5),
        (S.EXPIRED, 31),
        (S.CONVERTED, 10),
    ]
    names, weights = zip(*statuses, strict=True)
    picks = weighted_accounts(rng, accounts, northwind, args.registrations)
    approved_domain, approved_name = set(), set()
    claims: dict[str, set] = {}
    past_expiry = min(args.expired, args.registrations // 10)
    regs = []
    for i in range(args.registrations):
        company, domain = pick_customer()
        family = rng.choice(families)
        status = rng.choices(names, weights=weights)[0]
        created = now - timedelta(days=rng.uniform(0, 730), minutes=i % 997)
        reg = DealRegistration(
            account_id=picks[i],
            created_by=partner_user if picks[i] == northwind and rng.random() < 0.7 else None,
            shared_with_account=rng.random() < 0.5,
            company=company,
            domain=domain,
            contact_name="Pat Example",
            contact_email=f"pat@{domain or 'example.com'}",
            product_family=family,
            amount=Decimal(rng.randrange(1000, 250000)),
            expected_close_date=today + timedelta(days=rng.randrange(-200, 200)),
            stage=rng.choice(stages) if rng.random() < 0.3 else None,
            status=status,
            created_at=created,
            updated_at=created,
        )
        reg.set_customer_key()
        if status != S.DRAFT:
            reg.submitted_at = created + timedelta(hours=rng.randrange(1, 48))
        if status in (S.APPROVED, S.EXPIRED, S.CONVERTED, S.REJECTED, S.RETURNED):
            reg.decided_at = reg.submitted_at + timedelta(days=rng.randrange(1, 10))
        if status == S.APPROVED:
            dkey = (reg.customer_domain, family)
            nkey = (reg.customer_name_key, family)
            if (reg.customer_domain and dkey in approved_domain) or nkey in approved_name:
                reg.status = status = S.EXPIRED
            else:
                approved_domain.add(dkey)
                approved_name.add(nkey)
                if past_expiry:
                    past_expiry -= 1
                    reg.expires_on = today - timedelta(days=rng.randrange(1, 30))
                else:
                    reg.expires_on = today + timedelta(days=rng.randrange(0, 120))
        if status in (S.EXPIRED, S.CONVERTED):
            reg.expires_on = today - timedelta(days=rng.randrange(1, 400))
        if status in (S.SUBMITTED, S.APPROVED):
            for part in (reg.customer_domain, reg.customer_name_key):
                if part:
                    claims.setdefault(part, set()).add(reg.account_id)
        regs.append(reg)
    for reg in regs:
        if reg.status == S.SUBMITTED:
            others = set()
            for part in (reg.customer_domain, reg.customer_name_key):
                others |= claims.get(part, set()) - {reg.account_id}
            if others:
                reg.conflict = True
                reg.conflict_reasons = f"Registration by another partner: same domain ({part})"

    with no_auto_now(DealRegistration, Opportunity, Lead), transaction.atomic():
        for start in range(0, len(regs), BATCH):
            batch = regs[start : start + BATCH]
            DealRegistration.objects.bulk_create(batch)
            lines, events = [], []
            for reg in batch:
                chosen = rng.sample(
                    by_family[reg.product_family],
                    k=min(len(by_family[reg.product_family]), rng.choice((1, 1, 2))),
                )
                for product in chosen:
                    lines.append(
                        RegistrationLine(
                            registration_id=reg.pk,
                            product_id=product.pk,
                            quantity=rng.randrange(1, 200),
                        )
                    )
                if reg.status != S.DRAFT:
                    events.append(
                        RegistrationEvent(
                            registration_id=reg.pk,
                            from_status=S.DRAFT,
                            to_status=S.SUBMITTED,
                            created_at=reg.submitted_at,
                        )
                    )
            RegistrationLine.objects.bulk_create(lines)
            RegistrationEvent.objects.bulk_create(events)

        # ---- leads
        lead_statuses = [
            (LeadStatus.NEW, 6),
            (LeadStatus.ASSIGNED, 10),
            (LeadStatus.ACCEPTED, 30),
            (LeadStatus.REJECTED, 9),
            (LeadStatus.CONVERTED, 30),
            (LeadStatus.LOST, 15),
        ]
        lnames, lweights = zip(*lead_statuses, strict=True)
        lpicks = weighted_accounts(rng, accounts, northwind, args.leads)
        leads = []
        for i in range(args.leads):
            company, domain = pick_customer()
            status = rng.choices(lnames, weights=lweights)[0]
            if i < 1000:  # enough pool leads for the routing runs on a quick run too
                status = LeadStatus.NEW
            created = now - timedelta(days=rng.uniform(0, 730), minutes=i % 997)
            held = status not in (LeadStatus.NEW, LeadStatus.REJECTED)
            lead = Lead(
                company=company,
                domain=domain,
                contact_name="Sam Example",
                contact_email=f"sam@{domain or 'example.com'}",
                country="Germany",
                region=rng.choice(FAMILY_REGION),
                industry=rng.choice(INDUSTRIES),
                estimated_value=Decimal(rng.randrange(500, 90000)),
                status=status,
                account_id=lpicks[i] if held else None,
                assigned_at=created if held else None,
                accept_by=created + timedelta(hours=48) if status == LeadStatus.ASSIGNED else None,
                created_at=created,
                updated_at=created,
            )
            if status == LeadStatus.ASSIGNED and rng.random() < 0.8:
                lead.accept_by = now + timedelta(hours=rng.randrange(1, 48))
            lead.set_customer_key()
            leads.append(lead)
        for start in range(0, len(leads), BATCH):
            batch = leads[start : start + BATCH]
            Lead.objects.bulk_create(batch)
            Lead.products.through.objects.bulk_create(
                Lead.products.through(lead_id=lead.pk, product_id=rng.choice(products).pk)
                for lead in batch
                if rng.random() < 0.7
            )

        # ---- opportunities: from converted registrations and leads, the rest standalone
        converted_regs = [r for r in regs if r.status == S.CONVERTED]
        converted_leads = [lead for lead in leads if lead.status == LeadStatus.CONVERTED]
        opps = []
        opicks = weighted_accounts(rng, accounts, northwind, args.opportunities)
        for i in range(args.opportunities):
            source = None
            if converted_regs and i % 3 == 0:
                source = converted_regs.pop()
            elif converted_leads and i % 3 == 1:
                source = converted_leads.pop()
            if source is not None:
                company, domain, account = source.company, source.domain, source.account_id
            else:
                (company, domain), account = pick_customer(), opicks[i]
            status = rng.choices(
                [OpportunityStatus.OPEN, OpportunityStatus.WON, OpportunityStatus.LOST],
                weights=[55, 28, 17],
            )[0]
            created = now - timedelta(days=rng.uniform(0, 730))
            family = getattr(source, "product_family", "") or rng.choice(families)
            opp = Opportunity(
                name=f"{company[:150]} — {family}",
                company=company,
                domain=domain,
                account_id=account,
                owner=partner_user if account == northwind and rng.random() < 0.5 else None,
                shared_with_account=rng.random() < 0.8,
                registration=source if isinstance(source, DealRegistration) else None,
                lead=source if isinstance(source, Lead) else None,
                product_family=family,
                stage=rng.choice(stages),
                amount=Decimal(rng.randrange(1000, 400000)),
                close_date=today + timedelta(days=rng.randrange(-300, 300)),
                status=status,
                closed_at=created + timedelta(days=30) if status != "open" else None,
                created_at=created,
                updated_at=created,
            )
            opp.set_customer_key()
            opps.append(opp)
        for start in range(0, len(opps), BATCH):
            Opportunity.objects.bulk_create(opps[start : start + BATCH])

    return {"northwind": northwind, "pool": pool, "hot": hot}


# --- measuring ----------------------------------------------------------------------------------


class Bench:
    def __init__(self, repeat: int):
        from django.db import connection

        self.connection = connection
        self.repeat = repeat
        self.rows: list[tuple] = []
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
        """``queries``: the last run's captured queries (their count, and the time the database
        took, which tells SQL from Python when the machine is busy)."""
        sql_ms = sum(float(q["time"]) for q in queries) * 1000
        print(
            f"{label:58} {statistics.median(timings):10.1f} {max(timings):8.1f} {sql_ms:7.0f} "
            f"{len(queries):8d} {result!s:>9}",
            flush=True,
        )
        self.rows.append((label, statistics.median(timings), max(timings), sql_ms, result))

    def page(self, email, label, url, *, repeat=None, csv=False):
        from django.test.utils import CaptureQueriesContext

        client = self.client(email)
        if (repeat or self.repeat) > 1:
            client.get(url)  # warm up (not for the long exports timed once)
        timings = []
        for _ in range(repeat or self.repeat):
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

    def call(self, label, fn, *, repeat=None, result=None):
        """Time ``fn()`` (called ``repeat`` times; it may set up its own input each time)."""
        from django.test.utils import CaptureQueriesContext

        timings, captured, out = [], [], None
        for _ in range(repeat or self.repeat):
            with CaptureQueriesContext(self.connection) as queries:
                started = time.perf_counter()
                out = fn()
                timings.append((time.perf_counter() - started) * 1000)
            captured = queries.captured_queries
        self.report(label, timings, captured, result(out) if result else "")
        return out


@contextmanager
def tasks_counted(counter: dict):
    """Count what the services hand to Celery instead of running it (the workers' work)."""
    import prm.tasks

    original = prm.tasks._publish

    def publish(pending):
        counter[pending.task_name] = counter.get(pending.task_name, 0) + 1
        prm.tasks.PendingTask.objects.filter(pk=pending.pk).delete()  # as a publish does
        return True

    prm.tasks._publish = publish
    try:
        yield
    finally:
        prm.tasks._publish = original


def measure(args, seeded: dict, rng: random.Random) -> None:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from deals import services
    from deals.models import (
        DealRegistration,
        Lead,
        LeadStatus,
        Product,
        RegistrationStatus,
    )

    S = RegistrationStatus
    users = {u.email: u for u in get_user_model().objects.filter(email__in=[MANAGER, PARTNER])}
    maya, alex = users[MANAGER], users[PARTNER]
    northwind = seeded["northwind"]
    bench = Bench(args.repeat)

    # ---- registrations
    for who, email in (("manager", MANAGER), ("admin", ADMIN)):
        bench.page(email, f"registrations, page 1 ({who})", "/registrations/")
        bench.page(email, f"registrations, page 200 ({who})", "/registrations/?page=200")
        bench.page(
            email,
            f"registrations, conflicts, submitted ({who})",
            "/registrations/?status=submitted&conflict=true",
        )
        bench.page(email, f"registrations, search ({who})", "/registrations/?q=harbor")
        bench.page(email, f"review queue ({who})", "/registrations/review/")
    bench.page(PARTNER, "registrations, page 1 (partner)", "/registrations/")
    bench.page(PARTNER, "registrations, page 20 (partner)", "/registrations/?page=20")
    bench.page(PARTNER, "registrations CSV (partner)", "/registrations/export.csv", csv=True)
    bench.page(
        MANAGER,
        "registrations CSV (manager)",
        "/registrations/export.csv",
        csv=True,
        repeat=1,
    )
    mine = DealRegistration.objects.filter(account_id=northwind).order_by("-pk").first()
    bench.page(PARTNER, "registration detail (partner)", f"/registrations/{mine.pk}/")
    bench.page(MANAGER, "registration detail (manager)", f"/registrations/{mine.pk}/")
    flagged = (
        DealRegistration.objects.visible_to(maya)
        .filter(status=S.SUBMITTED, conflict=True)
        .order_by("pk")
        .first()
    )
    if flagged is not None:
        bench.page(MANAGER, "conflict compare (manager)", f"/registrations/{flagged.pk}/conflicts/")
        bench.page(ADMIN, "conflict compare (admin)", f"/registrations/{flagged.pk}/conflicts/")
    held = DealRegistration.objects.filter(status=S.APPROVED).exclude(customer_domain="").first()
    bench.page(
        PARTNER,
        "pre-check, registered customer (partner)",
        f"/registrations/precheck/?company={held.company}&domain={held.domain}",
    )
    bench.page(
        PARTNER,
        "pre-check, new customer (partner)",
        "/registrations/precheck/?company=Brand+New+Prospect+Ltd&domain=brandnew.example",
    )

    # ---- submitting through the services against that volume
    products = {p.family: p for p in Product.objects.filter(active=True)}
    today = timezone.localdate()
    counter: dict = {}
    hot = seeded["hot"]

    def draft(company, domain):
        registration = DealRegistration(
            company=company,
            domain=domain,
            contact_name="Pat Bench",
            contact_email="pat@bench.example",
            amount=Decimal("12000"),
            expected_close_date=today + timedelta(days=60),
        )
        family = rng.choice(sorted(products))
        return services.save_registration(
            actor=alex, registration=registration, lines=[(products[family], 3)]
        )

    def submit_existing():
        company, domain = rng.choice(hot)
        return services.submit_registration(actor=alex, registration=draft(company, domain))

    def submit_new():
        n = rng.randrange(10**9)
        return services.submit_registration(
            actor=alex, registration=draft(f"Bench Newco {n} Ltd", f"newco{n}.example")
        )

    with tasks_counted(counter):
        bench.call(
            "save_registration (draft, partner)",
            lambda: draft(f"Bench Draft {rng.randrange(10**9)}", ""),
        )
        bench.call(
            "save + submit, known customer (conflict)",
            submit_existing,
            result=lambda r: "conflict" if r.conflict else "clean",
        )
        bench.call(
            "save + submit, new customer",
            submit_new,
            result=lambda r: "conflict" if r.conflict else "clean",
        )

    # ---- opportunities
    for who, email in (("manager", MANAGER), ("partner", PARTNER), ("admin", ADMIN)):
        bench.page(email, f"opportunities, page 1 ({who})", "/opportunities/")
        bench.page(email, f"opportunities, page 100 ({who})", "/opportunities/?page=100")
        bench.page(email, f"opportunity board ({who})", "/opportunities/board/")
        bench.page(
            email,
            f"opportunities CSV ({who})",
            "/opportunities/export.csv",
            csv=True,
            repeat=1 if who != "partner" else None,
        )

    # ---- leads
    bench.page(MANAGER, "leads, page 1 (manager)", "/leads/")
    bench.page(MANAGER, "lead pool (manager)", "/leads/?account=null")
    bench.page(MANAGER, "leads, page 100 (manager)", "/leads/?page=100")
    bench.page(ADMIN, "leads, page 1 (admin)", "/leads/")
    bench.page(PARTNER, "leads, page 1 (partner)", "/leads/")

    # ---- jobs (each once: they change the data)
    pool = list(
        Lead.objects.filter(status=LeadStatus.NEW, account__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:1000]
    )
    with tasks_counted(counter):
        bench.call(
            "route_leads, 500 pool leads (SLA run, all partners)",
            lambda: services.route_leads(pool[:500]),
            repeat=1,
            result=lambda d: f"{sum(x.candidate is not None for x in d)} placed",
        )
        bench.call(
            "route_leads, 500 pool leads (manager's run)",
            lambda: services.route_leads(pool[500:1000], actor=maya),
            repeat=1,
            result=lambda d: f"{sum(x.candidate is not None for x in d)} placed",
        )
        counter.clear()
        bench.call(
            "expire_registrations (past expiry batch)",
            lambda: services.expire_registrations(today=today),
            repeat=1,
            result=lambda n: f"{n} exp.",
        )
        expire_tasks = sum(counter.values())
        counter.clear()
        bench.call(
            "expire_registrations again (nothing due)",
            lambda: services.expire_registrations(today=today),
            repeat=1,
            result=lambda n: f"{n} exp.",
        )
        bench.call(
            "warn_expiring_registrations",
            lambda: services.warn_expiring_registrations(today=today),
            repeat=1,
            result=lambda n: f"{n} warned",
        )
        warn_tasks = sum(counter.values())
        bench.call(
            "warn_expiring_registrations again (all warned)",
            lambda: services.warn_expiring_registrations(today=today),
            repeat=1,
            result=lambda n: f"{n} warned",
        )
    print(f"\nCelery tasks enqueued (not run here): expiry {expire_tasks}, warnings {warn_tasks}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=5000)
    parser.add_argument("--registrations", type=int, default=200_000)
    parser.add_argument("--opportunities", type=int, default=100_000)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument(
        "--expired", type=int, default=10_000, help="approved registrations past their expiry"
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--nice", type=int, default=10, help="lower this process's CPU priority")
    args = parser.parse_args()
    if args.nice:
        os.nice(args.nice)

    if "DATABASE_URL" not in os.environ:
        os.environ["PRM_VAR_DIR"] = tempfile.mkdtemp(prefix="openprm-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prm.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from deals.models import DealRegistration, Lead, Opportunity
    from prm.celery import app

    app.conf.task_always_eager = True  # no worker here: run follow-up tasks inline
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    logging.getLogger("celery").setLevel(logging.WARNING)
    print(
        f"database: {connection.vendor}, partners: {args.partners}, registrations: "
        f"{args.registrations}, opportunities: {args.opportunities}, leads: {args.leads}"
    )
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    call_command("seed_demo", partners=args.partners, verbosity=0, stdout=io.StringIO())
    print(f"seed_demo --partners {args.partners}: {time.perf_counter() - started:.1f} s")
    rng = random.Random(args.seed)
    started = time.perf_counter()
    seeded = seed_deals(args, rng)
    if connection.vendor == "postgresql":
        # What autovacuum does soon after a bulk load (SQLite is left as Django leaves it).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"bulk seeding: {time.perf_counter() - started:.1f} s — "
        f"{DealRegistration.objects.count()} registrations, "
        f"{Opportunity.objects.count()} opportunities, {Lead.objects.count()} leads"
    )
    measure(args, seeded, rng)


if __name__ == "__main__":
    main()
