"""Forms of the deals pages (leads, registrations, opportunities); choice fields are scoped with
visible_to and the services' rules."""

from __future__ import annotations

from django import forms
from django.db import models
from django.urls import reverse
from django.utils import timezone

from deals import services
from deals.models import DealRegistration, Lead, Opportunity, PipelineStage, Product
from prm.customfields import CustomFieldsFormMixin


class LeadForm(CustomFieldsFormMixin, forms.ModelForm):
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
        self.add_custom_fields(user)


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


# --- registrations ------------------------------------------------------------------------------

#: Currencies a partner can quote a deal in (the amount is an estimate, not an invoice).
REGISTRATION_CURRENCIES = [
    (code, code) for code in ("USD", "EUR", "GBP", "CAD", "AUD", "CHF", "JPY", "INR", "BRL")
]
#: Product rows one registration may list.
MAX_REGISTRATION_LINES = 20


class RegistrationForm(CustomFieldsFormMixin, forms.ModelForm):
    """A deal registration, short enough for a phone: seven required fields with the products.

    Typing the company or domain asks the pre-check (HTMX) whether the customer is still open.
    """

    amount = forms.DecimalField(
        label="Estimated amount",
        min_value=0,
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01", "min": "0"}),
        error_messages={"min_value": "The amount can't be negative."},
    )
    currency = forms.ChoiceField(choices=REGISTRATION_CURRENCIES, initial="USD")

    class Meta:
        model = DealRegistration
        fields = [
            "company",
            "domain",
            "contact_name",
            "contact_email",
            "contact_phone",
            "amount",
            "currency",
            "expected_close_date",
            "stage",
            "competitors",
            "notes",
            "shared_with_account",
        ]
        labels = {
            "company": "Customer company",
            "domain": "Customer website or domain",
            "contact_name": "Customer contact",
            "stage": "Stage",
            "competitors": "Competitors",
            "notes": "Notes",
        }
        help_texts = {
            "domain": "e.g. acme.com — the surest way to match the customer and protect your deal.",
            "competitors": "Who else the customer is talking to.",
            "notes": "Anything that helps your partner manager approve it. Up to 4,000 characters.",
        }
        widgets = {
            "expected_close_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 4}),
            "contact_email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "contact_phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            "domain": forms.TextInput(attrs={"inputmode": "url", "autocomplete": "off"}),
            "company": forms.TextInput(attrs={"autocomplete": "off"}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = PipelineStage.objects.visible_to(user).filter(active=True)
        self.fields["stage"].empty_label = "Not sure yet"
        precheck = {
            "hx-get": reverse("deals:registration_precheck"),
            "hx-trigger": "input changed delay:500ms, change",
            "hx-target": "#precheck",
            "hx-include": "#id_company, #id_domain",
            "hx-sync": "closest form:replace",
            "aria-controls": "precheck",
        }
        for name in ("company", "domain"):
            self.fields[name].widget.attrs.update(precheck)
        self.add_custom_fields(user)

    def clean_expected_close_date(self):
        value = self.cleaned_data["expected_close_date"]
        if value is not None and value < timezone.localdate():
            raise forms.ValidationError("The expected close date can't be in the past.")
        return value


class RegistrationLineForm(forms.Form):
    """One product of a registration and how many; products are offered grouped by family."""

    product = forms.TypedChoiceField(
        coerce=int,
        label="Product",
        error_messages={
            "invalid_choice": "That product isn't in the catalogue: choose one from the list.",
            "required": "Choose a product.",
        },
    )
    quantity = forms.IntegerField(
        label="Quantity",
        min_value=1,
        max_value=1_000_000,
        initial=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": "1"}),
        error_messages={"min_value": "At least 1."},
    )

    def __init__(self, *args, products: dict[int, Product], choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.products = products
        self.fields["product"].choices = choices


class BaseRegistrationLineFormSet(forms.BaseFormSet):
    """The products of a registration: at least one, each once. The catalogue is read once for
    every row (``products_for``)."""

    def clean(self):
        if any(self.errors):
            return
        if not any(form.cleaned_data.get("product") for form in self.forms):
            raise forms.ValidationError("Add at least one product.")
        seen = set()
        for form in self.forms:
            product_id = form.cleaned_data.get("product")
            if product_id is None:
                continue
            if product_id in seen:
                raise forms.ValidationError(
                    "Each product once, please: add the quantities up on one row."
                )
            seen.add(product_id)

    def lines(self) -> list[tuple[Product, int]]:
        return [
            (form.products[form.cleaned_data["product"]], form.cleaned_data["quantity"])
            for form in self.forms
            if form.cleaned_data.get("product") is not None
        ]

    def add_non_form_error(self, messages) -> None:
        """Show a service's error about the lines as a whole (e.g. two product families)."""
        self.non_form_errors()
        self._non_form_errors.extend(messages)


RegistrationLineFormSet = forms.formset_factory(
    RegistrationLineForm,
    formset=BaseRegistrationLineFormSet,
    extra=1,
    min_num=1,  # the first row is required ("Choose a product." at its field)
    max_num=MAX_REGISTRATION_LINES,
    validate_max=True,
)


def products_for(user) -> tuple[dict[int, Product], list]:
    """The products ``user`` may register, by id, and the select's choices grouped by family."""
    products = list(Product.objects.visible_to(user).filter(active=True).order_by("family", "name"))
    groups: dict[str, list] = {}
    for product in products:
        groups.setdefault(product.family, []).append((product.pk, product.name))
    choices = [("", "Choose a product…"), *groups.items()]
    return {p.pk: p for p in products}, choices


def registration_lines_formset(user, data=None, *, registration: DealRegistration | None = None):
    """The product rows of the register/edit form (filled from ``registration``'s lines)."""
    products, choices = products_for(user)
    initial = None
    if registration is not None and registration.pk:
        initial = [
            {"product": line.product_id, "quantity": line.quantity}
            for line in registration.lines.all()
        ]
    return RegistrationLineFormSet(
        data,
        initial=initial,
        prefix="lines",
        form_kwargs={"products": products, "choices": choices},
    )


class DecisionForm(forms.Form):
    """A manager's decision on a submitted registration; the partner reads the reason."""

    DECISIONS = [
        ("approve", "Approve"),
        ("return", "Return for more information"),
        ("reject", "Reject"),
    ]
    decision = forms.ChoiceField(
        choices=DECISIONS,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose approve, return or reject."},
    )
    reason = forms.CharField(
        max_length=500,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Reason",
        help_text="The partner sees it. Say what to add when you return it.",
        error_messages={"required": "Say why: the partner reads it."},
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        strip=True,
        label="Why withdraw it?",
        error_messages={"required": "Say why you withdraw it."},
    )


class ExtensionRequestForm(forms.Form):
    requested_until = forms.DateField(
        label="Protect until",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": "Choose the date the protection should run to."},
    )
    reason = forms.CharField(
        max_length=500,
        strip=True,
        label="Why do you need more time?",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why you need more time."},
    )


class ExtensionDecisionForm(forms.Form):
    grant = forms.TypedChoiceField(
        choices=[("yes", "Grant"), ("no", "Refuse")],
        coerce=lambda value: value == "yes",
        error_messages={"required": "Grant or refuse the extension."},
    )
    reason = forms.CharField(max_length=500, strip=True, required=False, label="Reason")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("grant") is False and not cleaned.get("reason"):
            self.add_error("reason", "Say why you refuse: the partner reads it.")
        return cleaned


# --- opportunities ------------------------------------------------------------------------------


def _stage_choices(current=None):
    """The pipeline's active stages (and the opportunity's own, should an admin retire it)."""
    stages = PipelineStage.objects.filter(active=True)
    if current is not None:
        stages = PipelineStage.objects.filter(models.Q(active=True) | models.Q(pk=current.stage_id))
    return stages.order_by("position", "pk")


class OpportunityForm(CustomFieldsFormMixin, forms.Form):
    """What a partner changes as a deal moves on; the service checks amounts and dates, so the
    messages are the same whoever calls it. Custom fields arrive as one ``custom`` dict."""

    stage = forms.ModelChoiceField(
        queryset=PipelineStage.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": "Choose one of the pipeline's stages."},
    )
    amount = forms.DecimalField(
        max_digits=14,
        decimal_places=2,
        error_messages={"required": "Give the deal's amount (0 if not known yet)."},
    )
    close_date = forms.DateField(
        label="Expected close date",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": "Give the date you expect to close the deal."},
    )
    next_step = forms.CharField(
        max_length=200,
        required=False,
        strip=True,
        help_text="What happens next, e.g. “Demo for the IT director on Tuesday”.",
    )

    def __init__(self, *args, opportunity, user, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "stage": opportunity.stage_id,
                "amount": opportunity.amount,
                "close_date": opportunity.close_date,
                "next_step": opportunity.next_step,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = _stage_choices(opportunity)
        self.fields["amount"].label = f"Amount ({opportunity.currency})"
        self.add_custom_fields(user, instance=opportunity, model=Opportunity)


class OpportunityStageForm(forms.Form):
    """The board's move: a stage, checked against the pipeline's active stages."""

    stage = forms.ModelChoiceField(
        queryset=PipelineStage.objects.none(),
        error_messages={
            "invalid_choice": "Choose one of the pipeline's stages.",
            "required": "Choose the stage to move it to.",
        },
    )

    def __init__(self, *args, required=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = _stage_choices()
        self.fields["stage"].required = required


class OpportunityCloseForm(forms.Form):
    won = forms.TypedChoiceField(
        label="Outcome",
        choices=[("yes", "Won"), ("no", "Lost")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose won or lost."},
    )
    reason = forms.CharField(
        max_length=500,
        required=False,
        strip=True,
        label="Why?",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
