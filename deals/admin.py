"""Admin of the deals app: what admins configure (products, assignment rules, pipeline stages)
and, read-only, the records partners and managers move through the portal (leads, registrations,
opportunities with their history).

Records move through deals.services, which record each step's history and send the
notifications; the admin shows them, it doesn't write them.
"""

from django.contrib import admin

from deals.models import (
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
from partners.admin import ReadOnlyAdminMixin, ScopedAdminMixin


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
    list_display = ("company", "status", "account", "accept_by", "created_at")
    list_filter = ("status", "source", "region", "industry", "created_at")
    list_select_related = ("account",)
    search_fields = ("company", "domain", "contact_name", "contact_email", "account__name")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-pk")
    inlines = (LeadEventInline,)
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

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("tiers")

    @admin.display(description="tiers")
    def tier_names(self, rule):
        return ", ".join(tier.name for tier in rule.tiers.all()) or "any"


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
