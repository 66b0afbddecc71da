"""Forms of the lead pages; choice fields are scoped with visible_to and the services' rules."""

from __future__ import annotations

from django import forms

from deals import services
from deals.models import Lead, Product


class LeadForm(forms.ModelForm):
    """What a partner manager types in for a new lead (a website enquiry, an event contact…)."""

    products = forms.ModelMultipleChoiceField(
        queryset=Product.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Products of interest",
    )
    estimated_value = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        label="Estimated value (USD)",
        help_text="What the customer might spend in the first year.",
    )

    class Meta:
        model = Lead
        fields = [
            "company",
            "domain",
            "contact_name",
            "contact_email",
            "contact_phone",
            "country",
            "region",
            "industry",
            "products",
            "estimated_value",
            "source",
            "notes",
        ]
        labels = {
            "contact_name": "Contact name",
            "contact_email": "Contact email",
            "contact_phone": "Contact phone",
        }
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 5}),
            "contact_email": forms.EmailInput(attrs={"autocomplete": "off"}),
        }
        help_texts = {"notes": "What the partner should know. Up to 4,000 characters."}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["products"].queryset = Product.objects.visible_to(user).filter(active=True)
        self.fields["products"].label_from_instance = lambda p: f"{p.name} · {p.family}"


class ReasonForm(forms.Form):
    """Why a lead is turned down or lost; the service says when it is missing."""

    reason = forms.CharField(required=False, max_length=500, strip=True)


class LeadAssignForm(forms.Form):
    account = forms.ModelChoiceField(
        queryset=None,
        label="Partner",
        empty_label="Choose a partner…",
        error_messages={
            "invalid_choice": "That partner can't receive this lead: choose one from the list.",
            "required": "Choose the partner to send this lead to.",
        },
    )

    def __init__(self, *args, user, lead, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = (
            services.assignable_accounts(user, lead).only("pk", "name").order_by("name", "pk")
        )
