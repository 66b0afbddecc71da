"""Deals: products, leads and their routing rules, deal registrations, opportunities and the
pipeline, and the customer-matching rule that conflict detection uses.

Leads, registrations and opportunities store a ``CustomerKey``'s parts in indexed columns, so that
conflicts are found by equality lookups.
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
from prm.access import (
    ReferenceQuerySet,
    Role,
    ScopedQuerySet,
    role_of,
    sees_everything,
    visible_through,
)

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


class CustomerFields(models.Model):
    """A customer named by company and domain, with the matching key kept in indexed columns."""

    company = models.CharField("customer company", max_length=200)
    domain = models.CharField(
        "website or domain",
        max_length=253,
        blank=True,
        help_text="e.g. acme.com — used to spot the same customer elsewhere.",
    )
    customer_name_key = models.CharField(max_length=200, editable=False, db_index=True)
    customer_domain = models.CharField(max_length=253, editable=False, db_index=True)
    customer_domain_label = models.CharField(max_length=253, editable=False, db_index=True)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.set_customer_key()
        super().save(*args, **kwargs)

    def set_customer_key(self) -> None:
        key = CustomerKey.of(self.company, self.domain)
        self.customer_name_key, self.customer_domain = key.name, key.domain
        self.customer_domain_label = key.label

    @property
    def customer_key(self) -> CustomerKey:
        return CustomerKey(name=self.customer_name_key, domain=self.customer_domain)


class StatusEvent(models.Model):
    """A step in a record's history: who moved it from which status to which, when and why."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["created_at", "pk"]


class AccountRecordQuerySet(ScopedQuerySet):
    """Records a partner user creates for their account (registrations, opportunities).

    Internal users: the accounts they see. Partner admins: everything of their account (and,
    read-only, of its child accounts). Partner members: their own records plus those shared with
    the account.
    """

    owner_field = "created_by"

    def visible_to(self, user):
        from partners.models import PartnerAccount

        role = role_of(user)
        if role.is_internal and sees_everything(user, self.model):
            return self.all()
        accounts = PartnerAccount.objects.visible_to(user)
        if role.is_internal or role is Role.PARTNER_ADMIN:
            return self.filter(account__in=accounts)
        if role is Role.PARTNER_MEMBER:
            return self.filter(account__in=accounts).filter(
                models.Q(**{self.owner_field: user}) | models.Q(shared_with_account=True)
            )
        return self.none()


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


class Lead(CustomerFields):
    """A prospective customer the vendor hands to a partner to work."""

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
    custom = models.JSONField("custom fields", default=dict, blank=True, editable=False)
    assignment_note = models.TextField(
        blank=True, help_text="Why the assignment rules picked the partner (empty when by hand)."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LeadQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["account", "status", "-created_at"]),
            # The lists' order: page 1 of a big list reads 26 index entries, not every row.
            models.Index(fields=["-created_at", "-id"]),
            # KPIs by period: leads accepted.
            models.Index(fields=["account", "accepted_at"]),
        ]
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

    @property
    def is_overdue(self) -> bool:
        """Waiting past its deadline: the next SLA run returns it to the pool."""
        return (
            self.status == LeadStatus.ASSIGNED
            and self.accept_by is not None
            and self.accept_by < timezone.now()
        )


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


class LeadEvent(StatusEvent):
    """A step in a lead's history."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=10, choices=LeadStatus.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=LeadStatus.choices)
    account = models.ForeignKey(
        "partners.PartnerAccount",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = LeadHistoryQuerySet.as_manager()

    class Meta(StatusEvent.Meta):
        # KPIs by period: a partner's answers to the leads it was handed.
        indexes = [models.Index(fields=["account", "to_status", "created_at"])]

    def __str__(self):
        return f"{self.lead}: {self.from_status or '—'} → {self.to_status}"


# --- lead assignment rules ----------------------------------------------------------------------


class AssignmentRuleQuerySet(ReferenceQuerySet):
    def active(self):
        return self.filter(active=True)


class AssignmentRule(models.Model):
    """Admin-defined routing: which partners a lead goes to when nobody picks one by hand.

    A rule applies to a lead when each of its lead conditions is blank or equal to the lead's.
    Among the partners it allows (its tiers, or any; open accounts that have not turned the lead
    down), the lead goes to the highest score, tier rank ÷ (1 + open leads held), so that better
    tiers get more leads but nobody is buried. Rules are tried in order; the first one with a
    candidate wins.
    """

    name = models.CharField(max_length=120)
    position = models.PositiveSmallIntegerField(default=0, help_text="Lower runs first.")
    active = models.BooleanField(default=True)
    region = models.CharField(max_length=10, blank=True, choices=Region.choices)
    country = models.CharField(max_length=80, blank=True)
    industry = models.CharField(max_length=20, blank=True, choices=Industry.choices)
    product_family = models.CharField(
        max_length=80, blank=True, help_text="Applies when the lead names a product of it."
    )
    tiers = models.ManyToManyField(
        "partners.Tier",
        blank=True,
        related_name="+",
        help_text="Partners of these tiers only (none: any tier).",
    )
    same_region = models.BooleanField(
        "partner in the lead's region",
        default=True,
        help_text="Only partners whose region is the lead's.",
    )
    same_country = models.BooleanField(
        "partner in the lead's country", default=False, help_text="Only partners in its country."
    )
    same_industry = models.BooleanField(
        "partner in the lead's industry",
        default=False,
        help_text="Only partners focused on the lead's industry.",
    )

    objects = AssignmentRuleQuerySet.as_manager()

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self):
        return self.name


# --- pipeline stages ----------------------------------------------------------------------------


class PipelineStage(models.Model):
    """An open stage of the pipeline (admin-defined) with its win probability."""

    name = models.CharField(max_length=60, unique=True)
    position = models.PositiveSmallIntegerField(default=0)
    probability = models.PositiveSmallIntegerField(help_text="Chance of winning, in percent.")
    active = models.BooleanField(default=True)

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(probability__lte=100), name="stage_probability_percent"
            )
        ]

    def __str__(self):
        return self.name


# --- deal registrations -------------------------------------------------------------------------


class RegistrationStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Under review"
    RETURNED = "returned", "Returned for more information"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPIRED = "expired", "Expired"
    CONVERTED = "converted", "Opportunity"


#: Registrations that hold or claim a customer: they make another partner's one a conflict.
CLAIMING = frozenset({RegistrationStatus.SUBMITTED, RegistrationStatus.APPROVED})
#: Registrations the partner may still edit and (re)submit.
EDITABLE = frozenset(
    {RegistrationStatus.DRAFT, RegistrationStatus.RETURNED, RegistrationStatus.REJECTED}
)


class DealRegistrationQuerySet(AccountRecordQuerySet):
    owner_field = "created_by"

    def claiming(self):
        return self.filter(status__in=CLAIMING)


class DealRegistration(CustomerFields):
    """A partner's claim on a deal: approved, it protects the customer and product family."""

    account = models.ForeignKey(
        "partners.PartnerAccount",
        on_delete=models.PROTECT,
        related_name="registrations",
        verbose_name="partner",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="registered by",
    )
    shared_with_account = models.BooleanField(
        "share with my colleagues",
        default=False,
        help_text="Everyone at your company can see it (partner admins always can).",
    )
    contact_name = models.CharField("customer contact", max_length=150)
    contact_email = models.EmailField("contact email")
    contact_phone = models.CharField("contact phone", max_length=40, blank=True)
    product_family = models.CharField(max_length=80, editable=False, db_index=True)
    amount = models.DecimalField("estimated amount", max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    expected_close_date = models.DateField("expected close date")
    stage = models.ForeignKey(
        PipelineStage, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    competitors = models.CharField(max_length=300, blank=True)
    notes = models.TextField(blank=True, max_length=4000)
    status = models.CharField(
        max_length=10,
        choices=RegistrationStatus.choices,
        default=RegistrationStatus.DRAFT,
        db_index=True,
    )
    conflict = models.BooleanField(
        "possible conflict", default=False, help_text="Another record names the same customer."
    )
    conflict_reasons = models.TextField(
        blank=True, help_text="Why records matched (for the vendor's eyes only)."
    )
    submitted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decision_reason = models.CharField(max_length=500, blank=True)
    expires_on = models.DateField("protected until", null=True, blank=True, db_index=True)
    custom = models.JSONField("custom fields", default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DealRegistrationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["account", "status", "-created_at"]),
            models.Index(fields=["status", "-conflict", "submitted_at"]),
            # The lists' order: page 1 of a big list reads 26 index entries, not every row.
            models.Index(fields=["-created_at", "-id"]),
            # KPIs by period: registered (submitted) and decided.
            models.Index(fields=["account", "submitted_at"]),
            models.Index(fields=["account", "decided_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="registration_amount_not_negative"
            ),
            # At most one approved registration per customer and product family: the protection
            # a partner is promised, held by the database even when two managers approve at once.
            models.UniqueConstraint(
                fields=["customer_domain", "product_family"],
                condition=models.Q(status="approved") & ~models.Q(customer_domain=""),
                name="one_approved_registration_per_domain",
            ),
            models.UniqueConstraint(
                fields=["customer_name_key", "product_family"],
                condition=models.Q(status="approved") & ~models.Q(customer_name_key=""),
                name="one_approved_registration_per_name",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="approved") | models.Q(expires_on__isnull=False),
                name="approved_registration_has_expiry",
            ),
        ]

    def __str__(self):
        return f"{self.company} ({self.get_status_display()})"

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE


class RegistrationLine(models.Model):
    """A product on a registration, with its quantity."""

    registration = models.ForeignKey(
        DealRegistration, on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(default=1)

    objects = visible_through("registration").as_manager()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "product"], name="registration_product_once"
            ),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="line_quantity_positive"
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.product}"


class RegistrationEvent(StatusEvent):
    """A step in a registration's history (what partners read never names another partner)."""

    registration = models.ForeignKey(
        DealRegistration, on_delete=models.CASCADE, related_name="events"
    )
    from_status = models.CharField(max_length=10, choices=RegistrationStatus.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=RegistrationStatus.choices)

    objects = visible_through("registration").as_manager()

    class Meta(StatusEvent.Meta):
        pass

    def __str__(self):
        return f"{self.registration}: {self.from_status or '—'} → {self.to_status}"


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the manager"
    GRANTED = "granted", "Granted"
    REFUSED = "refused", "Refused"


class ExtensionRequest(models.Model):
    """A partner asks for an approved registration's protection to run longer."""

    registration = models.ForeignKey(
        DealRegistration, on_delete=models.CASCADE, related_name="extension_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    requested_until = models.DateField("protect until")
    reason = models.CharField(max_length=500)
    status = models.CharField(
        max_length=10, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = visible_through("registration").as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration"],
                condition=models.Q(status="pending"),
                name="one_pending_extension",
            )
        ]

    def __str__(self):
        return f"Extension of {self.registration} to {self.requested_until}"


# --- opportunities ------------------------------------------------------------------------------


class OpportunityStatus(models.TextChoices):
    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"


class OpportunityQuerySet(AccountRecordQuerySet):
    owner_field = "owner"

    def open(self):
        return self.filter(status=OpportunityStatus.OPEN)


class Opportunity(CustomerFields):
    """A deal a partner works towards closing: from an approved registration or accepted lead."""

    name = models.CharField("opportunity", max_length=200)
    account = models.ForeignKey(
        "partners.PartnerAccount",
        on_delete=models.PROTECT,
        related_name="opportunities",
        verbose_name="partner",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    shared_with_account = models.BooleanField("share with my colleagues", default=True)
    registration = models.OneToOneField(
        DealRegistration,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="opportunity",
    )
    lead = models.OneToOneField(
        Lead, on_delete=models.PROTECT, null=True, blank=True, related_name="opportunity"
    )
    product_family = models.CharField(max_length=80, blank=True)
    stage = models.ForeignKey(PipelineStage, on_delete=models.PROTECT, related_name="opportunities")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    close_date = models.DateField("expected close date")
    next_step = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=10,
        choices=OpportunityStatus.choices,
        default=OpportunityStatus.OPEN,
        db_index=True,
    )
    reason = models.CharField("won/lost reason", max_length=500, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    custom = models.JSONField("custom fields", default=dict, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OpportunityQuerySet.as_manager()

    class Meta:
        ordering = ["close_date", "pk"]
        verbose_name_plural = "opportunities"
        indexes = [
            models.Index(fields=["account", "status", "close_date"]),
            models.Index(fields=["status", "stage"]),
            # The table's order (soonest close first), for lists across many partners.
            models.Index(fields=["close_date", "id"]),
            # KPIs by period: won/lost by close time, new pipeline by creation time.
            models.Index(fields=["status", "closed_at"]),
            models.Index(fields=["account", "status", "closed_at"]),
            models.Index(fields=["account", "created_at"]),
            # The open pipeline (by expected close) and the funnel (by stage) over many
            # partners: only the open rows, with what the sums read (no table visits on PG).
            models.Index(
                fields=["close_date"],
                include=["account", "stage", "amount", "currency"],
                condition=models.Q(status="open"),
                name="opportunity_open_by_close",
            ),
            models.Index(
                fields=["stage", "currency"],
                include=["account", "amount", "id"],
                condition=models.Q(status="open"),
                name="opportunity_open_by_stage",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="opportunity_amount_not_negative"
            ),
        ]

    def __str__(self):
        return self.name


class OpportunityEvent(StatusEvent):
    """A step in an opportunity's history: stage moves and the close, with the reason."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=80, blank=True)
    to_status = models.CharField(max_length=80)

    objects = visible_through("opportunity").as_manager()

    class Meta(StatusEvent.Meta):
        pass

    def __str__(self):
        return f"{self.opportunity}: {self.from_status or '—'} → {self.to_status}"
