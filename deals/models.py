"""Deals: the product catalogue and the customer-matching rule that conflict detection uses.

Leads, registrations and opportunities come next (issue 3); they will store a ``CustomerKey``'s
parts in indexed columns, so that conflicts are found by equality lookups.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from partners.models import Industry, Region, normalise_domain
from prm.access import ScopedQuerySet, role_of, sees_everything

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


# --- leads --------------------------------------------------------------------------------------


class LeadStatus(models.TextChoices):
    NEW = "new", "In the pool"
    ASSIGNED = "assigned", "Assigned"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    CONVERTED = "converted", "Converted"
    LOST = "lost", "Lost"


#: Statuses from which a manager may hand the lead to a partner.
ASSIGNABLE = frozenset({LeadStatus.NEW, LeadStatus.REJECTED})


class LeadSource(models.TextChoices):
    WEB = "web", "Website enquiry"
    EVENT = "event", "Event"
    CAMPAIGN = "campaign", "Marketing campaign"
    REFERRAL = "referral", "Referral"
    SALES = "sales", "Vendor sales team"
    OTHER = "other", "Other"


class LeadQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        """Partners: their account's leads (a distributor's admins also read their resellers').
        Managers: their partners' leads and the unassigned pool they distribute. Admins: all."""
        from partners.models import PartnerAccount

        role = role_of(user)
        if role.is_internal and sees_everything(user, Lead):
            return self.all()
        accounts = PartnerAccount.objects.visible_to(user)
        if role.is_internal:
            return self.filter(models.Q(account__in=accounts) | models.Q(account__isnull=True))
        if role.is_partner:
            return self.filter(account__in=accounts)
        return self.none()

    def overdue(self, now):
        return self.filter(status=LeadStatus.ASSIGNED, accept_by__lt=now)


class Lead(models.Model):
    """A prospective customer the vendor hands to a partner to work."""

    company = models.CharField("company", max_length=200)
    domain = models.CharField(
        "website or domain",
        max_length=253,
        blank=True,
        help_text="e.g. acme.com — used to spot the same customer in registrations.",
    )
    customer_name_key = models.CharField(max_length=200, editable=False, db_index=True)
    customer_domain = models.CharField(max_length=253, editable=False, db_index=True)
    customer_domain_label = models.CharField(max_length=253, editable=False, db_index=True)
    contact_name = models.CharField(max_length=150, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    country = models.CharField(max_length=80, blank=True)
    region = models.CharField(max_length=10, blank=True, choices=Region.choices)
    industry = models.CharField(max_length=20, blank=True, choices=Industry.choices)
    products = models.ManyToManyField(
        Product, blank=True, related_name="leads", verbose_name="products of interest"
    )
    estimated_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    source = models.CharField(max_length=12, choices=LeadSource.choices, default=LeadSource.WEB)
    notes = models.TextField(blank=True, max_length=4000)
    status = models.CharField(
        max_length=10, choices=LeadStatus.choices, default=LeadStatus.NEW, db_index=True
    )
    account = models.ForeignKey(
        "partners.PartnerAccount",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="leads",
        verbose_name="assigned partner",
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    accept_by = models.DateTimeField("accept by", null=True, blank=True, db_index=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.CharField(
        max_length=500, blank=True, help_text="Why it was last rejected or lost."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LeadQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["account", "status", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(estimated_value__gte=0) | models.Q(estimated_value__isnull=True),
                name="lead_value_not_negative",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="assigned") | models.Q(account__isnull=False),
                name="lead_assigned_has_account",
            ),
        ]

    def __str__(self):
        return self.company

    def save(self, *args, **kwargs):
        key = CustomerKey.of(self.company, self.domain)
        self.customer_name_key, self.customer_domain = key.name, key.domain
        self.customer_domain_label = key.label
        super().save(*args, **kwargs)

    @property
    def is_overdue(self) -> bool:
        """Waiting past its deadline: the next SLA run returns it to the pool."""
        return (
            self.status == LeadStatus.ASSIGNED
            and self.accept_by is not None
            and self.accept_by < timezone.now()
        )

    @property
    def customer_key(self) -> CustomerKey:
        return CustomerKey(name=self.customer_name_key, domain=self.customer_domain)


class LeadHistoryQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        """The history of leads the user sees; a partner never sees another partner's steps
        (who had the lead before them, and why they gave it back)."""
        from partners.models import PartnerAccount

        rows = self.filter(lead__in=Lead.objects.visible_to(user))
        if role_of(user).is_internal:
            return rows
        return rows.filter(account__in=PartnerAccount.objects.visible_to(user))


class LeadRejection(models.Model):
    """A partner turned the lead down: it is never offered to that partner again."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="rejections")
    account = models.ForeignKey(
        "partners.PartnerAccount", on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(max_length=500)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LeadHistoryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["lead", "account"], name="lead_rejected_once")
        ]

    def __str__(self):
        return f"{self.account} rejected {self.lead}"


class LeadEvent(models.Model):
    """A step in a lead's history: who moved it from which status to which, when and why."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    from_status = models.CharField(max_length=10, choices=LeadStatus.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=LeadStatus.choices)
    account = models.ForeignKey(
        "partners.PartnerAccount",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = LeadHistoryQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.lead}: {self.from_status or '—'} → {self.to_status}"
