"""Partner accounts, tiers, contacts and roles, invitations, workspaces, the audit trail."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from prm.access import (
    ReferenceQuerySet,
    Role,
    ScopedQuerySet,
    objects_with_perm,
    partner_contact,
    role_of,
)
from prm.access import sees_everything as _sees_everything


def normalise_domain(value: str) -> str:
    """'https://WWW.Example.com/about' -> 'example.com'."""
    value = (value or "").strip().lower()
    if not value:
        return ""
    if "//" not in value:
        value = "//" + value
    host = urlsplit(value).hostname or ""
    host = re.sub(r"^www\d*\.", "", host)
    return host.rstrip(".")


class Region(models.TextChoices):
    NORTH_AMERICA = "na", "North America"
    LATIN_AMERICA = "latam", "Latin America"
    EMEA = "emea", "EMEA"
    APAC = "apac", "APAC"


class Industry(models.TextChoices):
    SOFTWARE = "software", "Software & IT services"
    MANUFACTURING = "manufacturing", "Manufacturing"
    FINANCE = "finance", "Financial services"
    HEALTHCARE = "healthcare", "Healthcare"
    RETAIL = "retail", "Retail & consumer"
    PUBLIC = "public", "Public sector"
    EDUCATION = "education", "Education"
    TELECOM = "telecom", "Telecommunications"
    ENERGY = "energy", "Energy & utilities"
    OTHER = "other", "Other"


class AccountStatus(models.TextChoices):
    PROSPECT = "prospect", "Prospect"
    ONBOARDING = "onboarding", "Onboarding"
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    SUSPENDED = "suspended", "Suspended"


#: Statuses whose users may not log in (their sessions end when the account enters one).
BLOCKED_STATUSES = frozenset({AccountStatus.INACTIVE, AccountStatus.SUSPENDED})


class PortalAccess(models.TextChoices):
    NONE = "none", "No portal access"
    MEMBER = "member", "Member"
    ADMIN = "admin", "Partner admin"


class Tier(models.Model):
    """A program tier (Registered, Silver, Gold…): admins define them; rank orders them."""

    name = models.CharField(max_length=80, unique=True)
    rank = models.PositiveSmallIntegerField(
        unique=True, help_text="Higher rank = higher tier. Used for ordering and lead routing."
    )
    description = models.TextField(blank=True)
    lead_acceptance_hours = models.PositiveSmallIntegerField(
        default=48,
        help_text="How long a partner of this tier has to accept a lead before it goes back to "
        "the pool.",
    )
    registration_days = models.PositiveSmallIntegerField(
        "registration protection (days)",
        default=90,
        help_text="How long an approved deal registration of this tier is protected.",
    )

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        ordering = ["rank", "pk"]

    def __str__(self):
        return self.name


class PartnerAccountQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        if _sees_everything(user, PartnerAccount):
            return self.all()
        return objects_with_perm(user, "partners.view_partneraccount", self)

    def changeable_by(self, user):
        if role_of(user) is Role.ADMIN:
            return self.all()
        return objects_with_perm(user, "partners.change_partneraccount", self)

    def manageable_by(self, user):
        """Accounts whose contacts and portal access the user may manage."""
        if role_of(user) is Role.ADMIN:
            return self.all()
        return objects_with_perm(user, "partners.manage_partneraccount", self)

    def assigned_to(self, user):
        return self.filter(manager=user)


class PartnerAccount(models.Model):
    """A partner company: the tenant. Everything a partner can reach hangs off one of these."""

    name = models.CharField("company name", max_length=200)
    website = models.URLField(blank=True)
    domain = models.CharField(
        max_length=253,
        blank=True,
        db_index=True,
        editable=False,
        help_text="Normalised from the website (no scheme, no www).",
    )
    country = models.CharField(max_length=80, blank=True)
    region = models.CharField(max_length=10, choices=Region.choices, blank=True)
    industry = models.CharField(max_length=20, choices=Industry.choices, blank=True)
    status = models.CharField(
        max_length=12, choices=AccountStatus.choices, default=AccountStatus.PROSPECT, db_index=True
    )
    tier = models.ForeignKey(
        Tier, on_delete=models.PROTECT, null=True, blank=True, related_name="accounts"
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name="parent account",
        help_text="The distributor this reseller buys through.",
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_accounts",
        verbose_name="partner manager",
    )
    partner_since = models.DateField(null=True, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    description = models.TextField("about the company", blank=True)
    custom = models.JSONField("custom fields", default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PartnerAccountQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        permissions = [("manage_partneraccount", "Can manage contacts and portal access")]
        indexes = [
            models.Index(Lower("name"), name="partneraccount_name_ci"),
            # The lists' default order (name, then the unique tie-breaker): page 1 is an index walk.
            models.Index(fields=["name", "id"], name="partneraccount_name_order"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.domain = normalise_domain(self.website)
        super().save(*args, **kwargs)

    @property
    def is_blocked(self) -> bool:
        return self.status in BLOCKED_STATUSES


class PartnerAccountUserObjectPermission(UserObjectPermissionBase):
    """Direct foreign-key permission rows: scoping is one indexed join at any size."""

    content_object = models.ForeignKey(PartnerAccount, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["user", "permission", "content_object"])]


class PartnerAccountGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(PartnerAccount, on_delete=models.CASCADE)


class ContactRole(models.Model):
    """A role a contact plays for the vendor: primary, executive sponsor, sales, …"""

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=60)
    position = models.PositiveSmallIntegerField(default=0)

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self):
        return self.name


class ContactQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        # Colleagues are visible to everyone who can see the account (a company directory).
        return self.filter(account__in=PartnerAccount.objects.visible_to(user))

    def with_portal_access(self):
        return self.exclude(portal_access=PortalAccess.NONE)


class Contact(models.Model):
    """A person at a partner account; with portal access, the login of a partner user."""

    account = models.ForeignKey(PartnerAccount, on_delete=models.CASCADE, related_name="contacts")
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80)
    email = models.EmailField()
    phone = models.CharField(max_length=40, blank=True)
    title = models.CharField("job title", max_length=120, blank=True)
    roles = models.ManyToManyField(ContactRole, blank=True, related_name="contacts")
    portal_access = models.CharField(
        max_length=10, choices=PortalAccess.choices, default=PortalAccess.NONE
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contact",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~Q(portal_access="none"),
                name="contact_portal_email_unique",
                violation_error_message="Another contact with portal access already uses this "
                "email address.",
            ),
        ]

    def __str__(self):
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def access_state(self) -> str:
        """What the contact's portal access looks like to a person managing it."""
        if self.portal_access == PortalAccess.NONE:
            return "none"
        if self.user_id is None:
            return "invited" if getattr(self, "open_invitations", None) else "not_invited"
        return "active" if self.user.is_active else "disabled"


class InvitationQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        return self.filter(contact__in=Contact.objects.visible_to(user))

    def open(self):
        return self.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )


class Invitation(models.Model):
    """A single-use, expiring link that lets a contact set a password and enter the portal."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Invitation for {self.email}"

    @property
    def state(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "open"


class PortalTab(models.TextChoices):
    """Tabs of the partner portal; a tab shows only once its page exists (prm.navigation)."""

    HOME = "home", "Home"
    COMPANY = "company", "Company"
    LEADS = "leads", "Leads"
    DEALS = "deals", "Deals"
    TRAINING = "training", "Training"
    RESOURCES = "resources", "Resources"
    DASHBOARD = "dashboard", "Dashboard"
    SURVEYS = "surveys", "Surveys"


class WorkspaceQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        if role_of(user).is_internal:
            return self.all()
        contact = partner_contact(user)
        if contact is None:
            return self.none()
        return self.filter(Q(tier_id=contact.account.tier_id) | Q(tier__isnull=True))


class Workspace(models.Model):
    """What partners of one tier see in the portal: tabs, their order, the welcome message.

    The workspace without a tier is the default for tiers that have none of their own.
    """

    name = models.CharField(max_length=100)
    tier = models.OneToOneField(
        Tier, on_delete=models.CASCADE, null=True, blank=True, related_name="workspace"
    )
    welcome_title = models.CharField(max_length=150, default="Welcome to the partner portal")
    welcome_message = models.TextField(blank=True)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        ordering = ["tier__rank", "pk"]

    def __str__(self):
        return self.name


class WorkspaceTab(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="tabs")
    tab = models.CharField(max_length=20, choices=PortalTab.choices)
    label = models.CharField(max_length=40, blank=True, help_text="Leave blank for the default.")
    position = models.PositiveSmallIntegerField(default=0)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "tab"], name="workspace_tab_unique")
        ]

    def __str__(self):
        return self.label or self.get_tab_display()


class AuditAction(models.TextChoices):
    CREATE = "create", "Created"
    CHANGE = "change", "Changed"
    STATUS = "status", "Status changed"
    ACCESS = "access", "Portal access"
    DELETE = "delete", "Deleted"


class AuditEntryQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        # The history is an internal record: partner users do not read it.
        if not role_of(user).is_internal:
            return self.none()
        return self.filter(account__in=PartnerAccount.objects.visible_to(user))


class AuditEntry(models.Model):
    """Who changed what of a partner's data, and when."""

    account = models.ForeignKey(
        PartnerAccount, on_delete=models.CASCADE, related_name="audit_entries"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(max_length=10, choices=AuditAction.choices)
    object_type = models.CharField(max_length=60)
    object_id = models.PositiveBigIntegerField(null=True)
    object_repr = models.CharField(max_length=200)
    changes = models.JSONField(default=dict, blank=True)
    message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["account", "-created_at"])]

    def __str__(self):
        return f"{self.get_action_display()} {self.object_repr}"
