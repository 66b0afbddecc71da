"""Demo data of the deals app (called by ``manage.py seed_demo``): products, assignment rules,
leads, deal registrations (one in conflict) and a pipeline, each moved through the services."""

from decimal import Decimal

from deals.models import Product
from partners.demo import ATLAS, CONTOSO, LEO_EMAIL, MAYA_EMAIL, NORTHWIND

PRODUCTS = [
    # (sku, name, family, list price)
    ("SEC-GW-100", "Secure Gateway 100", "Network security", "4900.00"),
    ("SEC-GW-500", "Secure Gateway 500", "Network security", "18500.00"),
    ("SEC-FW-CLOUD", "Cloud Firewall (per site, yearly)", "Network security", "2400.00"),
    ("EDR-STD", "Endpoint Defense Standard (per seat, yearly)", "Endpoint", "48.00"),
    ("EDR-PRO", "Endpoint Defense Pro (per seat, yearly)", "Endpoint", "79.00"),
    ("SIEM-CORE", "Insight SIEM Core (yearly)", "Analytics", "36000.00"),
    ("SIEM-ADDON-UEBA", "Insight SIEM behaviour analytics add-on", "Analytics", "12000.00"),
    ("SVC-ONBOARD", "Onboarding service (fixed price)", "Services", "7500.00"),
]
RETIRED = {"SEC-GW-100"}  # one inactive product shows what partners no longer see


def seed(report) -> None:
    seed_products(report)
    seed_assignment_rules(report)
    seed_leads(report)
    seed_registrations(report)
    seed_pipeline(report)


def seed_products(report) -> None:
    for sku, name, family, price in PRODUCTS:
        _, created = Product.objects.get_or_create(
            sku=sku,
            defaults={
                "name": name,
                "family": family,
                "list_price": Decimal(price),
                "active": sku not in RETIRED,
            },
        )
        report.created["products"] += created


# --- leads ----------------------------------------------------------------------------------

#: What happens to each demo lead after it is created (through the services, so each step is
#: in its history): "pool", "assigned", "soon" (under a day left), "overdue", "accepted",
#: "rejected" (by the partner, with a reason), "lost" (accepted, then lost).
LEADS = [
    # (company, domain, country, region, industry, skus, value, source, contact, partner, fate)
    ("Brandt Maschinenbau GmbH", "brandt-maschinenbau.example", "Germany", "emea",
     "manufacturing", ["SEC-GW-500", "SVC-ONBOARD"], "42000", "event", "Jonas Brandt",
     NORTHWIND, "assigned"),
    ("Kessler Präzisionsteile AG", "kessler-praezision.example", "Switzerland", "emea",
     "manufacturing", ["EDR-PRO"], "18960", "web", "Anna Kessler", NORTHWIND, "soon"),
    ("Hofmann Logistik", "hofmann-logistik.example", "Germany", "emea", "other",
     ["SEC-FW-CLOUD"], "9600", "campaign", "Lukas Hofmann", NORTHWIND, "overdue"),
    ("Vogel Medizintechnik", "vogel-medtech.example", "Austria", "emea", "healthcare",
     ["SIEM-CORE", "SIEM-ADDON-UEBA"], "48000", "referral", "Mira Vogel", NORTHWIND, "assigned"),
    ("Schuster Automotive Zulieferer", "schuster-auto.example", "Germany", "emea",
     "manufacturing", ["EDR-STD", "SEC-GW-500"], "31200", "sales", "Felix Schuster",
     NORTHWIND, "accepted"),
    ("Lindner Verpackung", "lindner-verpackung.example", "Germany", "emea", "manufacturing",
     ["SEC-FW-CLOUD", "SVC-ONBOARD"], "14700", "web", "Sara Lindner", NORTHWIND, "accepted"),
    ("Dresden Energie Netz", "dresden-energie.example", "Germany", "emea", "other",
     ["SIEM-CORE"], "36000", "event", "Paul Richter", NORTHWIND, "accepted"),
    ("Alpenblick Hotels", "alpenblick-hotels.example", "Austria", "emea", "other",
     ["EDR-STD"], "4800", "campaign", "Eva Huber", NORTHWIND, "rejected"),
    ("Nordsee Fischerei", "nordsee-fisch.example", "Germany", "emea", "other", [], "2500",
     "web", "Hauke Jensen", NORTHWIND, "rejected"),
    ("Weber Textil", "weber-textil.example", "Germany", "emea", "manufacturing",
     ["SEC-GW-500"], "18500", "referral", "Clara Weber", NORTHWIND, "lost"),
    ("Harbor Credit Union", "harborcu.example", "United States", "na", "finance",
     ["SIEM-CORE", "EDR-PRO"], "51800", "event", "Grace Walker", CONTOSO, "assigned"),
    ("Pinecrest Savings Bank", "pinecrest-savings.example", "United States", "na", "finance",
     ["EDR-PRO"], "23700", "web", "Daniel Hughes", CONTOSO, "soon"),
    ("Lakeshore Mutual", "lakeshore-mutual.example", "United States", "na", "finance",
     ["SEC-FW-CLOUD", "SVC-ONBOARD"], "16900", "sales", "Hannah Clarke", CONTOSO, "accepted"),
    ("Granite State Lending", "granitestatelending.example", "United States", "na", "finance",
     ["SIEM-CORE"], "36000", "referral", "Samuel Evans", CONTOSO, "accepted"),
    ("Maple Leaf Insurance", "mapleleaf-ins.example", "Canada", "na", "finance", ["EDR-STD"],
     "7200", "campaign", "Olivia Martin", CONTOSO, "rejected"),
    ("Bayview Trust", "bayview-trust.example", "United States", "na", "finance",
     ["SEC-GW-500"], "18500", "web", "Ethan Murphy", CONTOSO, "lost"),
    ("Thames Valley Logistics", "thamesvalley-logistics.example", "United Kingdom", "emea",
     "other", ["SEC-GW-500", "EDR-STD"], "27400", "event", "Oliver Hughes", ATLAS, "accepted"),
    ("Clyde Engineering Ltd", "clyde-engineering.example", "United Kingdom", "emea",
     "manufacturing", ["SEC-FW-CLOUD"], "4800", "web", "Isla Campbell", ATLAS, "assigned"),
    ("Riverside Health Partners", "riverside-health.example", "United States", "na",
     "healthcare", ["EDR-PRO", "SVC-ONBOARD"], "19400", "web", "Rosa Reyes", None, "pool"),
    ("Sakura Components K.K.", "sakura-components.example", "Japan", "apac", "manufacturing",
     ["SEC-GW-500"], "18500", "event", "Kenji Sato", None, "pool"),
    ("Southern Cross Retail", "southerncross-retail.example", "Australia", "apac", "other",
     ["EDR-STD", "SEC-FW-CLOUD"], "12000", "campaign", "Mia Walker", None, "pool"),
    ("Andes Minería S.A.", "andes-mineria.example", "Chile", "latam", "other", ["SIEM-CORE"],
     "36000", "referral", "Diego Castillo", None, "pool"),
    ("Rhein Chemie Handel", "rhein-chemie.example", "Germany", "emea", "manufacturing", [],
     None, "web", "Jakub Novak", None, "pool"),
    ("Polaris Freight", "polaris-freight.example", "Netherlands", "emea", "other",
     ["SEC-FW-CLOUD"], "7200", "web", "Lars Berg", None, "pool"),
    ("Hanse Maschinen KG", "hanse-maschinen.example", "Germany", "emea", "manufacturing",
     ["SEC-GW-500"], "18500", "event", "Jonas Meyer", None, "routed"),
    ("First Harbor Bank", "firstharbor-bank.example", "United States", "na", "finance",
     ["SIEM-CORE"], "36000", "web", "Ava Collins", None, "routed"),
]  # fmt: skip
LEAD_NOTES = (
    "Met at the regional security summit; they are replacing an end-of-life firewall.\n"
    "Budget is approved for this quarter. Ask for the IT lead, not procurement."
)
DEMO_ACCOUNTS = (ATLAS, NORTHWIND, CONTOSO)
MAYA = MAYA_EMAIL
DEMO_ACTORS = (MAYA_EMAIL, LEO_EMAIL)
REJECT_REASONS = {
    "Alpenblick Hotels": "Hospitality is outside our focus; a partner in Tyrol would fit better.",
    "Nordsee Fischerei": "Too small for us to serve well, and too far north for on-site work.",
    "Maple Leaf Insurance": "We don't cover Canada.",
}
LOST_REASONS = {
    "Weber Textil": "They renewed with their current vendor for three more years.",
    "Bayview Trust": "Project cancelled after their merger.",
}


def seed_leads(report) -> None:
    """About 25 leads in every status, created and moved through the services (so each has its
    history and its emails); skipped once the demo leads exist."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from deals import services
    from deals.models import Lead, LeadSource
    from partners.models import PartnerAccount, PortalAccess

    if Lead.objects.filter(company__in=[row[0] for row in LEADS]).exists():
        return
    accounts = {a.name: a for a in PartnerAccount.objects.filter(name__in=DEMO_ACCOUNTS)}
    users = {u.email: u for u in get_user_model().objects.filter(email__in=DEMO_ACTORS)}
    if len(accounts) < len(DEMO_ACCOUNTS) or len(users) < len(DEMO_ACTORS):
        return  # the fixed demo accounts and logins are not there (seed_demo --partners < 3)
    products = {p.sku: p for p in Product.objects.filter(active=True)}
    manager_of = {account.name: account.manager for account in accounts.values()}
    partner_user = {
        name: next(
            c.user
            for c in account.contacts.filter(portal_access=PortalAccess.ADMIN, user__isnull=False)
            .select_related("user")
            .order_by("pk")
        )
        for name, account in accounts.items()
    }
    maya = users[MAYA]
    now = timezone.now()
    for (
        company,
        domain,
        country,
        region,
        industry,
        skus,
        value,
        source,
        contact,
        partner,
        fate,
    ) in LEADS:
        manager = manager_of[partner] if partner else maya
        first = contact.split(" ")[0].lower() if contact else ""
        lead = services.create_lead(
            actor=manager,
            lead=Lead(
                company=company,
                domain=domain,
                country=country,
                region=region,
                industry=industry,
                contact_name=contact,
                contact_email=f"{first}@{domain}" if first and domain else "",
                estimated_value=Decimal(value) if value else None,
                source=source or LeadSource.WEB,
                notes=LEAD_NOTES if value and Decimal(value) > 20000 else "",
            ),
            products=[products[sku] for sku in skus if sku in products],
        )
        report.created["leads"] += 1
        if fate == "routed":
            # The assignment rules pick the partner; the lead's page says why.
            services.route_lead(actor=maya, lead=lead)
            continue
        if fate == "pool":
            continue
        account, person = accounts[partner], partner_user[partner]
        lead = services.assign_lead(actor=manager, lead=lead, account=account)
        if fate == "soon":
            Lead.objects.filter(pk=lead.pk).update(accept_by=now + timedelta(hours=5))
        elif fate == "overdue":
            # The SLA job returns it to the pool on its next run: one to see that happen.
            Lead.objects.filter(pk=lead.pk).update(accept_by=now - timedelta(hours=2))
        elif fate == "rejected":
            services.reject_lead(actor=person, lead=lead, reason=REJECT_REASONS[company])
        elif fate in ("accepted", "lost"):
            lead = services.accept_lead(actor=person, lead=lead)
            if fate == "lost":
                services.mark_lead_lost(actor=person, lead=lead, reason=LOST_REASONS[company])


# --- assignment rules -----------------------------------------------------------------------

#: (name, region, industry, product family, tiers, same_region)
RULES = [
    ("EMEA manufacturing to Gold and up", "emea", "manufacturing", "", ["Gold", "Platinum"], True),
    ("North American banks", "na", "finance", "", [], True),
    ("Analytics to certified tiers", "", "", "Analytics", ["Silver", "Gold", "Platinum"], True),
    ("Everything else, in its region", "", "", "", [], True),
]


def seed_assignment_rules(report) -> None:
    from deals.models import AssignmentRule
    from partners.models import Tier

    tiers = {tier.name: tier for tier in Tier.objects.all()}
    for position, (name, region, industry, family, tier_names, same_region) in enumerate(RULES):
        rule, created = AssignmentRule.objects.get_or_create(
            name=name,
            defaults={
                "position": position * 10,
                "region": region,
                "industry": industry,
                "product_family": family,
                "same_region": same_region,
            },
        )
        if created:
            rule.tiers.set([tiers[n] for n in tier_names if n in tiers])
        report.created["assignment rules"] += created


# --- deal registrations ---------------------------------------------------------------------

#: What happens to each demo registration, through the services: "draft", "submitted",
#: "returned", "rejected", "withdrawn", "approved", "expiring" (approved, 10 days left, an
#: extension asked for), "expired", "converted" (approved, then an opportunity). The two "Acme
#: Financial" rows name one customer in two spellings: the second is flagged as a conflict.
REGISTRATIONS = [
    # (partner, login, company, domain, contact, [(sku, qty)], amount, days to close, fate, reason)
    (NORTHWIND, "alex.admin@northwind.example", "Brauerei Falkenstein GmbH",
     "falkenstein-brauerei.example", "Tobias Falk", [("SEC-GW-500", 2)], "37000", 60,
     "approved", "Partner sourced; no vendor activity on this account."),
    (NORTHWIND, "jamie.member@northwind.example", "Oberland Kliniken",
     "oberland-kliniken.example", "Dr. Petra Ober", [("EDR-PRO", 400)], "31600", 75,
     "submitted", ""),
    (CONTOSO, "sam.admin@contoso-partners.example", "Acme Financial Group, Inc.",
     "acmefinancial.example", "Ruth Adams", [("SIEM-CORE", 1), ("SIEM-ADDON-UEBA", 1)],
     "48000", 45, "approved", "Contoso ran the proof of concept."),
    (NORTHWIND, "alex.admin@northwind.example", "ACME Financial Group",
     "www.acmefinancial.example", "Mark Engel", [("SIEM-CORE", 1)], "36000", 90,
     "submitted", ""),
    (CONTOSO, "sam.admin@contoso-partners.example", "Harborview Credit Union",
     "harborview-cu.example", "Nina Brooks", [("EDR-STD", 250)], "12000", 50, "returned",
     "Please add the customer's IT contact and the number of branches in scope."),
    (CONTOSO, "sam.admin@contoso-partners.example", "Summit Ridge Bank",
     "summitridge-bank.example", "Owen Price", [("SEC-FW-CLOUD", 12)], "28800", 40,
     "rejected", "Our enterprise sales team has owned this account since 2021."),
    (NORTHWIND, "alex.admin@northwind.example", "Rheinland Stahl AG", "rheinland-stahl.example",
     "Katrin Vogt", [("SEC-GW-500", 1)], "18500", 120, "draft", ""),
    (NORTHWIND, "alex.admin@northwind.example", "Isar Brauhaus", "isar-brauhaus.example",
     "Max Huber", [("EDR-STD", 80)], "3840", 30, "withdrawn",
     "The customer postponed the project to next year."),
    (NORTHWIND, "alex.admin@northwind.example", "Kieler Werft", "kieler-werft.example",
     "Jan Petersen", [("SEC-FW-CLOUD", 8)], "19200", 25, "expiring",
     "Strong partner relationship with the shipyard's IT team."),
    (NORTHWIND, "alex.admin@northwind.example", "Mosel Weinhandel", "mosel-wein.example",
     "Lena Becker", [("EDR-STD", 40)], "1920", 20, "expired", "Small but clean."),
    (ATLAS, "dana.admin@atlas-distribution.example", "Pennine Water Ltd",
     "pennine-water.example", "George Hall", [("SIEM-CORE", 1)], "36000", 70, "converted",
     "Distributor-led deal with a named reseller."),
    (CONTOSO, "sam.admin@contoso-partners.example", "Lakeview Federal", "lakeview-federal.example",
     "Chloe Turner", [("EDR-PRO", 600)], "47400", 35, "converted", "Approved: incumbent partner."),
]  # fmt: skip


def _demo_people():
    from django.contrib.auth import get_user_model

    emails = {row[1] for row in REGISTRATIONS} | set(DEMO_ACTORS)
    return {u.email: u for u in get_user_model().objects.filter(email__in=emails)}


def seed_registrations(report) -> None:
    """A dozen registrations in every status, one pair in conflict; skipped once they exist."""
    from datetime import timedelta

    from django.utils import timezone

    from deals import services
    from deals.models import DealRegistration

    if DealRegistration.objects.filter(company__in=[row[2] for row in REGISTRATIONS]).exists():
        return
    people = _demo_people()
    if not all(row[1] in people for row in REGISTRATIONS) or MAYA not in people:
        return  # the fixed demo logins are not there
    products = {p.sku: p for p in Product.objects.filter(active=True)}
    today = timezone.localdate()
    for (
        partner,
        login,
        company,
        domain,
        contact,
        lines,
        amount,
        days,
        fate,
        reason,
    ) in REGISTRATIONS:
        person = people[login]
        first, _, last = contact.replace("Dr. ", "").partition(" ")
        registration = services.save_registration(
            actor=person,
            registration=DealRegistration(
                company=company,
                domain=domain,
                contact_name=contact,
                contact_email=f"{first.lower()}.{last.lower()}@{domain.removeprefix('www.')}",
                amount=Decimal(amount),
                expected_close_date=today + timedelta(days=days),
                competitors="Incumbent firewall vendor" if int(amount) > 30000 else "",
                notes=LEAD_NOTES if int(amount) > 40000 else "",
                shared_with_account=partner != NORTHWIND or login.startswith("alex"),
            ),
            lines=[(products[sku], qty) for sku, qty in lines],
        )
        report.created["registrations"] += 1
        if fate == "draft":
            continue
        if fate == "withdrawn":
            services.withdraw_registration(actor=person, registration=registration, reason=reason)
            continue
        registration = services.submit_registration(actor=person, registration=registration)
        manager = registration.account.manager or people[MAYA]
        if fate == "submitted":
            continue
        if fate == "returned":
            services.return_registration(actor=manager, registration=registration, reason=reason)
        elif fate == "rejected":
            services.reject_registration(actor=manager, registration=registration, reason=reason)
        else:
            registration = services.approve_registration(
                actor=manager, registration=registration, reason=reason
            )
        if fate == "expiring":
            DealRegistration.objects.filter(pk=registration.pk).update(
                expires_on=today + timedelta(days=10)
            )
            registration.refresh_from_db()
            services.request_extension(
                actor=person,
                registration=registration,
                requested_until=today + timedelta(days=70),
                reason="The customer's board signs off next month; we need to cover the delay.",
            )
        elif fate == "expired":
            DealRegistration.objects.filter(pk=registration.pk).update(
                expires_on=today - timedelta(days=1)
            )
            services.expire_registrations(today=today)
        elif fate == "converted":
            services.convert_registration(actor=person, registration=registration)


# --- pipeline -------------------------------------------------------------------------------

#: Accepted demo leads worked on into the pipeline: (company, stage, next step, fate).
PIPELINE_LEADS = [
    ("Schuster Automotive Zulieferer", "Proposal", "Send the revised quote with 3-year pricing",
     "open"),
    ("Lindner Verpackung", "Discovery", "Site survey at the Bremen plant", "open"),
    ("Dresden Energie Netz", "Negotiation", "Legal review of the framework agreement", "won"),
    ("Lakeshore Mutual", "Commit", "Purchase order expected this week", "open"),
    ("Granite State Lending", "Qualification", "Find the budget owner", "lost"),
    ("Thames Valley Logistics", "Proposal", "Demo for the operations director", "open"),
]  # fmt: skip
CLOSE_REASONS = {
    "won": "Signed a three-year agreement after the pilot.",
    "lost": "Budget moved to a core-banking replacement.",
}


def seed_pipeline(report) -> None:
    """Accepted demo leads become opportunities at different stages, one won and one lost."""
    from deals import services
    from deals.models import Lead, LeadStatus, PipelineStage

    stages = {stage.name: stage for stage in PipelineStage.objects.all()}
    leads = {
        lead.company: lead
        for lead in Lead.objects.filter(
            company__in=[row[0] for row in PIPELINE_LEADS], status=LeadStatus.ACCEPTED
        ).select_related("account", "accepted_by")
    }
    for company, stage_name, next_step, fate in PIPELINE_LEADS:
        lead = leads.get(company)
        if lead is None or lead.accepted_by is None or stage_name not in stages:
            continue  # already converted (a second run), or the demo leads are not there
        person = lead.accepted_by
        opportunity = services.convert_lead(actor=person, lead=lead)
        opportunity = services.update_opportunity(
            actor=person, opportunity=opportunity, next_step=next_step
        )
        opportunity = services.move_opportunity(
            actor=person, opportunity=opportunity, stage=stages[stage_name]
        )
        if fate in CLOSE_REASONS:
            services.close_opportunity(
                actor=person,
                opportunity=opportunity,
                won=fate == "won",
                reason=CLOSE_REASONS[fate],
            )
        report.created["opportunities"] += 1
