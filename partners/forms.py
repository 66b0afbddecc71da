"""Forms for partner accounts, contacts and invitations; choice fields scoped with visible_to."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.db.models import Q

from partners.models import AccountStatus, Contact, ContactRole, PartnerAccount, PortalAccess
from partners.services import check_portal_email_free
from prm.customfields import CustomFieldsFormMixin
from prm.models import PARTNER_MANAGERS_GROUP


def manager_choices():
    return (
        get_user_model()
        .objects.filter(Q(groups__name=PARTNER_MANAGERS_GROUP) | Q(is_superuser=True))
        .filter(is_active=True)
        .distinct()
        .order_by("first_name", "last_name", "pk")
    )


class PartnerProfileForm(CustomFieldsFormMixin, forms.ModelForm):
    """What a partner admin edits about their own company (and the custom fields they see)."""

    website = forms.URLField(required=False, assume_scheme="https")

    class Meta:
        model = PartnerAccount
        fields = ["name", "website", "phone", "country", "industry", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_custom_fields(user)


class PartnerAccountForm(CustomFieldsFormMixin, forms.ModelForm):
    """What a partner manager or admin edits: the profile plus program details."""

    website = forms.URLField(required=False, assume_scheme="https")

    class Meta:
        model = PartnerAccount
        fields = [
            "name",
            "website",
            "phone",
            "country",
            "region",
            "industry",
            "description",
            "tier",
            "parent",
            "manager",
            "partner_since",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "partner_since": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        parents = PartnerAccount.objects.visible_to(user).only("pk", "name")
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents
        self.fields["manager"].queryset = manager_choices()
        self.fields["manager"].label_from_instance = lambda u: u.get_full_name() or u.email
        self.add_custom_fields(user)


class AccountStatusForm(forms.Form):
    status = forms.ChoiceField(choices=AccountStatus.choices)
    reason = forms.CharField(
        required=False,
        max_length=300,
        help_text="Required when the account is made inactive or suspended.",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("status") in ("inactive", "suspended") and not cleaned.get("reason"):
            self.add_error(
                "reason", "Say why: the partner manager and the audit trail will see it."
            )
        return cleaned


class ContactRulesForm(forms.ModelForm):
    """The contact rules as form errors (used by the portal's form and the admin's)."""

    class Meta:
        model = Contact
        fields = ["first_name", "last_name", "email", "title", "portal_access"]
        labels = {"portal_access": "Portal access"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.user_id:
            if "email" in self.fields:
                self.fields["email"].disabled = True
                self.fields["email"].help_text = "This person signs in with this address."
            if "portal_access" in self.fields:
                self.fields["portal_access"].choices = [
                    c for c in PortalAccess.choices if c[0] != PortalAccess.NONE
                ]

    def clean(self):
        cleaned = super().clean()
        email, access = cleaned.get("email"), cleaned.get("portal_access")
        if email and access:
            probe = Contact(
                pk=self.instance.pk,
                user_id=self.instance.user_id,
                email=email,
                portal_access=access,
            )
            try:
                check_portal_email_free(probe)
            except forms.ValidationError as error:
                self.add_error(None, error)
        return cleaned

    def _get_validation_exclusions(self):
        # The partial unique constraint on email is checked in clean(), at the email field,
        # rather than as the model's anonymous form-wide error.
        exclusions = super()._get_validation_exclusions()
        exclusions.add("email")
        return exclusions


class ContactForm(ContactRulesForm):
    roles = forms.ModelMultipleChoiceField(
        queryset=ContactRole.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Contact roles",
    )
    send_invitation = forms.BooleanField(
        required=False,
        initial=False,
        label="Send a portal invitation now",
        help_text="They get an email with a link to set their password.",
    )

    class Meta(ContactRulesForm.Meta):
        fields = ["first_name", "last_name", "email", "phone", "title", "roles", "portal_access"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["roles"].initial = list(self.instance.roles.all())
            del self.fields["send_invitation"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("send_invitation") and cleaned.get("portal_access") == PortalAccess.NONE:
            self.add_error("portal_access", "Choose member or partner admin to send an invitation.")
        return cleaned


class AcceptInvitationForm(forms.Form):
    first_name = forms.CharField(
        max_length=80, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        max_length=80, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    password1 = forms.CharField(
        label="Choose a password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Repeat the password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The two passwords don't match.")
        elif p1:
            probe = get_user_model()(
                email=self.email,
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
            try:
                password_validation.validate_password(p1, probe)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned
