"""Admin of the deals app: what admins configure (products, assignment rules, pipeline stages)
and, read-only, the records partners and managers move through the portal (leads, registrations,
opportunities with their history).

Records move through deals.services, which record each step's history and send the
notifications; the admin shows them, it doesn't write them (a new lead added here goes through
``create_lead`` too).
"""

from collections import Counter

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied

from deals import routing, services
from deals.models import (
    ASSIGNABLE,
    AssignmentRule,
    DealRegistration,
    ExtensionRequest,
    Lead,
    LeadEvent,
    LeadRejection,
    Opportunity,
    OpportunityEvent,
    PipelineStage,
    Product,
    RegistrationEvent,
    RegistrationLine,
)
from partners.admin import ScopedAdminMixin
from prm.admin import ReadOnlyAdminMixin

#: How many waiting leads an assignment rule preview runs on (the oldest first).
PREVIEW_SIZE = 500


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "sku", "family", "list_price", "currency", "active"]
    list_filter = ["active", "family"]
    search_fields = ["name", "sku", "family"]
    list_editable = ["active"]
    ordering = ["family", "name", "pk"]
    actions = ["make_active", "make_inactive"]

    @admin.action(description="Offer the selected products")
    def make_active(self, request, queryset):
        count = queryset.update(active=True)
        self.message_user(request, f"{count} product(s) can now be offered.")

    @admin.action(description="Stop offering the selected products")
    def make_inactive(self, request, queryset):
        count = queryset.update(active=False)
        self.message_user(request, f"{count} product(s) are no longer offered.")


class LeadEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = LeadEvent
    fields = ("created_at", "actor", "from_status", "to_status", "account", "reason")
    readonly_fields = fields
    ordering = ("created_at", "pk")
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "account")


@admin.register(Lead)
class LeadAdmin(ScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Leads are added here as on the portal's form (through ``create_lead``, so the history
    starts); after that they are read-only: they move through the portal's services."""

    list_display = ("company", "status", "account", "accept_by", "created_at")
    list_filter = ("status", "source", "region", "industry", "created_at")
    list_select_related = ("account",)
    search_fields = ("company", "domain", "contact_name", "contact_email", "account__name")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-pk")
    inlines = (LeadEventInline,)
    filter_horizontal = ("products",)
    actions = ("run_assignment_rules",)
    fieldsets = (
        ("Customer", {"fields": ("company", "domain", "country", "region", "industry")}),
        ("Contact", {"fields": ("contact_name", "contact_email", "contact_phone")}),
        ("Interest", {"fields": ("products", "estimated_value", "currency", "source", "notes")}),
        (
            "Distribution",
            {
                "fields": (
                    "status",
                    "account",
                    "assigned_at",
                    "accept_by",
                    "accepted_at",
                    "accepted_by",
                    "reason",
                    "assignment_note",
                    "created_by",
                    "created_at",
                    "updated_at",
                )
            },
        ),
    )

    def has_add_permission(self, request, obj=None):
        return admin.ModelAdmin.has_add_permission(self, request)

    def get_fieldsets(self, request, obj=None):
        # A new lead starts in the pool: only what the portal's form asks for.
        return self.fieldsets if obj is not None else self.fieldsets[:3]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if change:  # never offered (no change permission); kept closed all the same
            raise PermissionDenied("Leads change through the portal.")
        services.create_lead(
            actor=request.user, lead=obj, products=form.cleaned_data.get("products", ())
        )

    def save_related(self, request, form, formsets, change):
        """``create_lead`` already set the products; the add page has no inlines."""

    @admin.action(description="Run the assignment rules on the selected leads in the pool")
    def run_assignment_rules(self, request, queryset):
        decisions = services.route_leads(queryset.values("pk"), actor=request.user)
        routed = sum(1 for decision in decisions if decision.candidate is not None)
        level = messages.SUCCESS if routed == len(decisions) else messages.WARNING
        self.message_user(
            request,
            f"{routed} of {len(decisions)} waiting lead(s) sent to partners; the others stay "
            "in the pool (each lead's page says why). Leads not in the pool were left alone.",
            level,
        )


@admin.register(LeadRejection)
class LeadRejectionAdmin(ScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("lead", "account", "reason", "rejected_by", "created_at")
    list_select_related = ("lead", "account", "rejected_by")
    list_filter = ("created_at",)
    search_fields = ("lead__company", "account__name", "reason")
    ordering = ("-created_at", "-pk")


@admin.register(LeadEvent)
class LeadEventAdmin(ScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("lead", "from_status", "to_status", "account", "actor", "created_at")
    list_select_related = ("lead", "account", "actor")
    list_filter = ("to_status", "created_at")
    search_fields = ("lead__company", "account__name", "reason")
    ordering = ("-created_at", "-pk")


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "position",
        "active",
        "region",
        "country",
        "industry",
        "product_family",
        "tier_names",
    )
    list_editable = ("position", "active")
    list_filter = ("active", "region", "industry")
    search_fields = ("name", "country", "product_family")
    filter_horizontal = ("tiers",)
    ordering = ("position", "pk")
    fieldsets = (
        (None, {"fields": ("name", "position", "active")}),
        (
            "The leads it applies to (blank: any)",
            {"fields": ("region", "country", "industry", "product_family")},
        ),
        (
            "The partners it may pick",
            {"fields": ("tiers", "same_region", "same_country", "same_industry")},
        ),
    )

    actions = ("preview_on_pool",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("tiers")

    @admin.display(description="tiers")
    def tier_names(self, rule):
        return ", ".join(tier.name for tier in rule.tiers.all()) or "any"

    @admin.action(description="Preview the selected rules on the pool (changes nothing)")
    def preview_on_pool(self, request, queryset):
        waiting = list(
            Lead.objects.filter(status__in=ASSIGNABLE).order_by("created_at", "pk")[:PREVIEW_SIZE]
        )
        decisions = routing.choose_partners(waiting, rules=queryset)
        placed = Counter(d.candidate.name for d in decisions if d.candidate is not None)
        if not decisions:
            self.message_user(request, "No lead is waiting in the pool: nothing to preview.")
            return
        shares = ", ".join(f"{name} {count}" for name, count in placed.most_common(10))
        examples = "; ".join(
            f"{d.lead.company} → {d.candidate.name if d.candidate else 'stays in the pool'}"
            for d in decisions[:5]
        )
        self.message_user(
            request,
            f"Preview of {queryset.count()} rule(s), in position order, on the {len(decisions)} "
            f"oldest waiting lead(s): {sum(placed.values())} would go to partners"
            f"{f' ({shares})' if shares else ''}, {len(decisions) - sum(placed.values())} "
            f"would stay in the pool. For example: {examples}. Nothing was changed.",
        )


@admin.register(PipelineStage)
class PipelineStageAdmin(admin.ModelAdmin):
    list_display = ("name", "position", "probability", "active")
    list_editable = ("position", "probability", "active")
    ordering = ("position", "pk")


class RegistrationLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = RegistrationLine
    fields = ("product", "quantity")
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


class RegistrationEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = RegistrationEvent
    fields = ("created_at", "actor", "from_status", "to_status", "reason")
    readonly_fields = fields
    ordering = ("created_at", "pk")
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(DealRegistration)
class DealRegistrationAdmin(ScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "company",
        "account",
        "product_family",
        "amount",
        "currency",
        "status",
        "conflict",
        "submitted_at",
        "expires_on",
    )
    list_filter = ("status", "conflict", "product_family", "submitted_at")
    list_select_related = ("account",)
    search_fields = ("company", "domain", "contact_name", "contact_email", "account__name")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-pk")
    inlines = (RegistrationLineInline, RegistrationEventInline)


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(ScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("registration", "requested_until", "status", "requested_by", "created_at")
    list_filter = ("status", "created_at")
    list_select_related = ("registration", "requested_by")
    search_fields = ("registration__company", "reason")
    ordering = ("-created_at", "-pk")


class OpportunityEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OpportunityEvent
    fields = ("created_at", "actor", "from_status", "to_status", "reason")
    readonly_fields = fields
    ordering = ("created_at", "pk")
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(Opportunity)
class OpportunityAdmin(ScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "account", "stage", "amount", "currency", "close_date", "status")
    list_filter = ("status", "stage", "close_date")
    list_select_related = ("account", "stage")
    search_fields = ("name", "company", "domain", "account__name")
    date_hierarchy = "close_date"
    ordering = ("close_date", "pk")
    inlines = (OpportunityEventInline,)
