"""Admin of the deals app: the product catalogue, and leads with their history (read-only).

Leads are created and moved through the portal's lead pages, which call deals.services and so
record each step's history and send the emails; the admin shows them, it doesn't write them.
"""

from django.contrib import admin

from deals.models import Lead, LeadEvent, LeadRejection, Product
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
