"""Deals: the product catalogue and the customer-matching rule that conflict detection uses.

Leads, registrations and opportunities come next (issue 3); they will store a ``CustomerKey``'s
parts in indexed columns, so that conflicts are found by equality lookups.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.db import models
from django.db.models.functions import Lower

from partners.models import normalise_domain
from prm.access import ScopedQuerySet, role_of

# --- the customer-matching rule ---------------------------------------------------------------
#
# Two records name the same customer when any of these hold (each is a reason shown to managers):
#   1. their registrable domains are equal ("www.acme.com", "sales.acme.com" → "acme.com");
#   2. their company names are equal after normalisation (case, accents, punctuation, "&"/"and",
#      a leading "The", and legal suffixes such as Inc., Incorporated, Corp., Ltd, LLC, GmbH, S.A.
#      are ignored: "Acme Inc." = "ACME, Incorporated" = "acme");
#   3. one record's normalised name equals the other's domain name without its public suffix
#      ("Acme Inc." and acme.com; "Acme Bricks Ltd" and acmebricks.co.uk).
# Nothing looser: "Acme Corp" at acme.com and "Acme Bricks Ltd" at acmebricks.co.uk are two
# customers, because "acme" ≠ "acmebricks" and acme.com ≠ acmebricks.co.uk.

#: Legal forms dropped from the end of a company name (compared after punctuation is removed).
LEGAL_SUFFIXES = frozenset(
    [
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "cos",
        "companies",
        "ltd",
        "limited",
        "llc",
        "llp",
        "lp",
        "plc",
        "pllc",
        "gmbh",
        "mbh",
        "ag",
        "kg",
        "ohg",
        "ug",
        "se",
        "sa",
        "sas",
        "sarl",
        "sasu",
        "spa",
        "srl",
        "sl",
        "bv",
        "nv",
        "oy",
        "oyj",
        "ab",
        "as",
        "asa",
        "aps",
        "kk",
        "pty",
        "pte",
        "pvt",
        "private",
        "holdings",
        "holding",
        "group",
    ]
)
#: Two-label public suffixes under which the registrable domain has three labels.
SECOND_LEVEL_SUFFIXES = frozenset(
    [
        "co.uk",
        "org.uk",
        "ac.uk",
        "gov.uk",
        "ltd.uk",
        "plc.uk",
        "me.uk",
        "com.au",
        "net.au",
        "org.au",
        "edu.au",
        "gov.au",
        "co.nz",
        "org.nz",
        "co.jp",
        "ne.jp",
        "or.jp",
        "co.kr",
        "co.in",
        "net.in",
        "org.in",
        "firm.in",
        "co.za",
        "org.za",
        "com.br",
        "net.br",
        "com.mx",
        "org.mx",
        "com.ar",
        "com.cn",
        "net.cn",
        "org.cn",
        "com.hk",
        "com.sg",
        "com.my",
        "com.tr",
        "com.tw",
        "co.id",
        "co.il",
        "co.th",
        "com.ph",
        "com.vn",
        "com.co",
        "com.pe",
        "com.ec",
        "com.uy",
        "com.sa",
        "com.eg",
        "com.ng",
        "co.ke",
    ]
)


def registrable_domain(value: str) -> str:
    """'https://sales.Acme.com/x' -> 'acme.com'; 'www.acmebricks.co.uk' -> 'acmebricks.co.uk'."""
    host = normalise_domain(value)
    labels = [label for label in host.split(".") if label]
    if len(labels) < 2:
        return host
    keep = 3 if ".".join(labels[-2:]) in SECOND_LEVEL_SUFFIXES and len(labels) >= 3 else 2
    return ".".join(labels[-keep:])


def domain_label(domain: str) -> str:
    """The registrable domain without its public suffix: 'acmebricks.co.uk' -> 'acmebricks'."""
    return domain.split(".", 1)[0] if domain else ""


def normalise_company_name(name: str) -> str:
    """'ACME, Incorporated' -> 'acme'; 'Müller & Söhne GmbH' -> 'muellerandsoehne'…

    Returned without spaces, so that "Acme Bricks" and the domain label "acmebricks" compare.
    """
    text = unicodedata.normalize("NFKD", (name or "").casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("&", " and ").replace("+", " and ")
    # "S.A." and "L.L.C." lose their dots before the suffix test: join single letters.
    text = re.sub(r"\b(\w)\.(?=\w\b\.?)", r"\1", text)
    words = re.sub(r"[^\w\s]", " ", text).split()
    if words and words[0] == "the" and len(words) > 1:
        words = words[1:]
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words.pop()
    return "".join(words)


@dataclass(frozen=True)
class CustomerKey:
    """What conflict detection compares: a normalised name and a registrable domain."""

    name: str
    domain: str

    @classmethod
    def of(cls, company: str, domain_or_website: str = "") -> CustomerKey:
        return cls(
            name=normalise_company_name(company), domain=registrable_domain(domain_or_website)
        )

    @property
    def label(self) -> str:
        return domain_label(self.domain)

    def match_reasons(self, other: CustomerKey) -> list[str]:
        """Why ``other`` is the same customer (empty when it is not), in words for a manager."""
        reasons = []
        if self.domain and self.domain == other.domain:
            reasons.append(f"same domain ({self.domain})")
        if self.name and self.name == other.name:
            reasons.append(f"same company name once normalised ({self.name})")
        if self.name and self.name == other.label and other.domain != self.domain:
            reasons.append(f"this name matches their domain {other.domain}")
        if other.name and other.name == self.label and other.domain != self.domain:
            reasons.append(f"their name matches this domain {self.domain}")
        return reasons


# --- products -----------------------------------------------------------------------------------


class ProductQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        """The whole catalogue for internal users; what can be offered for partners."""
        role = role_of(user)
        if role.is_internal:
            return self.all()
        if role.is_partner:
            return self.filter(active=True)
        return self.none()


class Product(models.Model):
    """A product partners sell; leads and registrations name products with quantities."""

    name = models.CharField(max_length=150)
    sku = models.CharField("SKU", max_length=60, unique=True)
    family = models.CharField(
        "product family",
        max_length=80,
        db_index=True,
        help_text="Groups products for registrations, routing rules and certifications.",
    )
    list_price = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    active = models.BooleanField(default=True, help_text="Only active products can be offered.")
    description = models.TextField(blank=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["family", "name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(list_price__gte=0), name="product_price_not_negative"
            ),
            models.UniqueConstraint(Lower("sku"), name="product_sku_ci_unique"),
        ]

    def __str__(self):
        return f"{self.name} ({self.sku})"
