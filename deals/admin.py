"""Admin of the deals app: the product catalogue."""

from django.contrib import admin

from deals.models import Product


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
