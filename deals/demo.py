"""Demo data of the deals app (called by ``manage.py seed_demo``): products and leads."""

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
    seed_leads(report)


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
