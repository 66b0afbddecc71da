"""Demo data of the deals app (called by ``manage.py seed_demo``): the product catalogue."""

from decimal import Decimal

from deals.models import Product

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
