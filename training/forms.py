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
