"""Training forms: the catalogue's filters, and reading a quiz submission."""

from __future__ import annotations

from django import forms

from partners.models import ContactRole
from prm.access import role_of
from training.models import EnrollmentStatus
from training.selectors import NOT_STARTED

STATUS_CHOICES = [
    ("", "Any status"),
    (NOT_STARTED, "Not started"),
    (EnrollmentStatus.IN_PROGRESS, "In progress"),
    (EnrollmentStatus.COMPLETED, "Completed"),
]


class CatalogueFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=100)
    role = forms.ModelChoiceField(
        label="Meant for",
        queryset=ContactRole.objects.none(),
        required=False,
        empty_label="Any role",
    )
    required = forms.ChoiceField(
        label="Required",
        choices=[("", "All courses"), ("yes", "Required for my tier")],
        required=False,
    )
    status = forms.ChoiceField(label="My status", choices=STATUS_CHOICES, required=False)

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["role"].queryset = ContactRole.objects.visible_to(user)
        if role_of(user).is_internal:
            # Internal users preview courses; they take none, and have no tier of their own.
            del self.fields["status"]
            self.fields["required"].choices = [("", "All courses"), ("yes", "Required for a tier")]

    def filters(self) -> dict:
        """The selector's keyword arguments; an invalid value filters nothing."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "q": data.get("q", "").strip(),
            "role": data.get("role"),
            "required": data.get("required") == "yes",
            "status": data.get("status", ""),
        }


def quiz_answers(post) -> dict[int, list[int]]:
    """The posted answers as {question id: [choice ids]} (fields ``q-<question id>``).

    Raises ValueError on anything that isn't a number; the service checks that every id belongs
    to the quiz.
    """
    answers: dict[int, list[int]] = {}
    for key in post:
        if key.startswith("q-"):
            answers[int(key[2:])] = [int(value) for value in post.getlist(key)]
    return answers


# --- library ------------------------------------------------------------------------------------

#: What the resource library accepts, by extension: the Content-Type it is served with, the types
#: a browser may declare for it on upload, and how its first bytes begin. No SVG, HTML or
#: executable: those could run script in the portal's origin or on a partner's machine.
OOXML = "application/vnd.openxmlformats-officedocument"
RESOURCE_FILE_TYPES = {
    ".pdf": ("application/pdf", {"application/x-pdf"}, (b"%PDF-",)),
    ".docx": (f"{OOXML}.wordprocessingml.document", set(), (b"PK\x03\x04",)),
    ".xlsx": (f"{OOXML}.spreadsheetml.sheet", set(), (b"PK\x03\x04",)),
    ".pptx": (f"{OOXML}.presentationml.presentation", set(), (b"PK\x03\x04",)),
    ".png": ("image/png", set(), (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", {"image/pjpeg"}, (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", {"image/pjpeg"}, (b"\xff\xd8\xff",)),
}
#: Browsers send this when they don't know a type: the file's first bytes decide then.
UNKNOWN_CONTENT_TYPE = "application/octet-stream"
ALLOWED_UPLOADS = "PDF, Word (.docx), Excel (.xlsx), PowerPoint (.pptx), PNG or JPEG"


def resource_extension(name: str) -> str:
    """The file name's extension, lower case with its dot ("" when there is none)."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, extension = base.rpartition(".")
    return f".{extension.lower()}" if dot and stem else ""


def resource_content_type(name: str) -> str:
    """The Content-Type a library file is served with, from its extension."""
    entry = RESOURCE_FILE_TYPES.get(resource_extension(name))
    return entry[0] if entry else UNKNOWN_CONTENT_TYPE


def max_upload_bytes() -> int:
    from django.conf import settings

    return getattr(settings, "PRM_MAX_UPLOAD_MB", 25) * 1024 * 1024


def validate_resource_file(upload) -> None:
    """Refuse a library upload of the wrong type (extension, declared type, first bytes) or over
    ``PRM_MAX_UPLOAD_MB``, with a message that says which and what is allowed."""
    limit_mb = max_upload_bytes() // (1024 * 1024)
    if upload.size > max_upload_bytes():
        size_mb = upload.size / (1024 * 1024)
        raise forms.ValidationError(
            f"“{upload.name}” is {size_mb:.1f} MB; files may be at most {limit_mb} MB.",
            code="too_large",
        )
    extension = resource_extension(upload.name)
    entry = RESOURCE_FILE_TYPES.get(extension)
    if entry is None:
        shown = extension or "without an extension"
        raise forms.ValidationError(
            f"“{upload.name}”: files {shown} can't be uploaded. Upload a {ALLOWED_UPLOADS} file.",
            code="file_type",
        )
    content_type, aliases, signatures = entry
    declared = (getattr(upload, "content_type", "") or "").split(";")[0].strip().lower()
    if declared and declared not in {content_type, UNKNOWN_CONTENT_TYPE, *aliases}:
        raise forms.ValidationError(
            f"“{upload.name}” was sent as {declared}, which doesn't match its {extension} "
            f"extension. Upload a {ALLOWED_UPLOADS} file.",
            code="content_type",
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not head.startswith(signatures):
        raise forms.ValidationError(
            f"“{upload.name}” isn't a real {extension} file (its content doesn't match its "
            "extension).",
            code="content",
        )


LAYOUT_CHOICES = [("cards", "Cards"), ("table", "Table")]


class ResourceFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=100)
    category = forms.ChoiceField(label="Category", required=False)
    tag = forms.ModelChoiceField(
        label="Tag",
        queryset=None,
        required=False,
        to_field_name="slug",
        empty_label="Any tag",
    )
    view = forms.ChoiceField(label="Show as", choices=LAYOUT_CHOICES, required=False)

    def __init__(self, data=None, *, user, **kwargs):
        from training.models import ResourceCategory, ResourceTag

        super().__init__(data, **kwargs)
        self.fields["category"].choices = [("", "Any category"), *ResourceCategory.choices]
        self.fields["tag"].queryset = ResourceTag.objects.visible_to(user)

    def filters(self) -> dict:
        """The selector's keyword arguments; an invalid value filters nothing."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "q": data.get("q", "").strip(),
            "category": data.get("category", ""),
            "tag": data.get("tag"),
        }

    @property
    def layout(self) -> str:
        value = self.data.get("view", "") if self.data else ""
        return value if value in dict(LAYOUT_CHOICES) else "cards"


class ArticleSearchForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=100)

    def query(self) -> str:
        return self.cleaned_data.get("q", "").strip() if self.is_valid() else ""


# --- enrolling other people -----------------------------------------------------------------

#: What an internal user is told for an email that isn't a partner user of a company they see:
#: the same words whether or not the address exists elsewhere.
UNKNOWN_PERSON = (
    "{email}: no partner user of a company you work with has this email address "
    "(or their portal access is off)."
)


class ColleagueChoiceField(forms.ModelMultipleChoiceField):
    enrolled: set = set()

    def label_from_instance(self, obj):
        label = f"{obj.full_name} · {obj.email}"
        return f"{label} (already enrolled)" if obj.user_id in self.enrolled else label


class EnrollPeopleForm(forms.Form):
    """Whom to enroll: a partner admin ticks colleagues; an internal user types emails."""

    people = ColleagueChoiceField(
        label="Colleagues",
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        help_text="Colleagues with portal access. Each one is told by email.",
    )
    emails = forms.CharField(
        label="Email addresses of partner users",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text="One or more, separated by commas or new lines. Each person is told by email.",
    )

    def __init__(self, data=None, *, user, course, **kwargs):
        from partners.models import Contact
        from prm.access import partner_contact
        from training.models import Enrollment

        super().__init__(data, **kwargs)
        self.user = user
        self.is_internal = role_of(user).is_internal
        self.colleagues = []
        if self.is_internal:
            del self.fields["people"]
            return
        del self.fields["emails"]
        own = partner_contact(user)
        colleagues = (
            Contact.objects.visible_to(user)
            .with_portal_access()
            .filter(account_id=own.account_id if own else None, user__is_active=True)
            .exclude(user=user)
            .select_related("user", "account__tier")
        )
        field = self.fields["people"]
        field.queryset = colleagues
        self.colleagues = list(colleagues)
        field.enrolled = set(
            Enrollment.objects.filter(
                course=course, user_id__in=[c.user_id for c in self.colleagues]
            ).values_list("user_id", flat=True)
        )

    @property
    def field_name(self) -> str:
        return "emails" if self.is_internal else "people"

    def clean_emails(self):
        import re

        from django.db.models import Q

        from partners.models import Contact

        typed = re.split(r"[,;\s]+", self.cleaned_data["emails"])
        emails = list(dict.fromkeys(e.strip().lower() for e in typed if e.strip()))
        if not emails:
            raise forms.ValidationError("Type the email address of at least one partner user.")
        if len(emails) > 50:
            raise forms.ValidationError("Enroll at most 50 people at a time.")
        query = Q()
        for email in emails:
            query |= Q(email__iexact=email)
        found = {
            contact.email.lower(): contact.user
            for contact in Contact.objects.visible_to(self.user)
            .with_portal_access()
            .filter(query, user__is_active=True)
            .select_related("user", "account__tier")
        }
        missing = [e for e in emails if e not in found]
        if missing:
            raise forms.ValidationError([UNKNOWN_PERSON.format(email=e) for e in missing])
        return [found[e] for e in emails]

    def users(self) -> list:
        if self.is_internal:
            return self.cleaned_data["emails"]
        return [c.user for c in self.cleaned_data["people"]]
