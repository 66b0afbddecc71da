"""Forms of the project-level pages: a person's email preferences."""

from __future__ import annotations

from django import forms
from django.db import transaction

from prm.models import EmailMode, NotificationPreference

#: The short labels of the radio buttons (the model's choices are longer, for the admin).
MODE_LABELS = {
    EmailMode.INSTANT: "Instant",
    EmailMode.DIGEST: "Daily digest",
    EmailMode.OFF: "Off",
}
SENDER_DEFAULT = ""  # an alert topic without a choice: the rule's channel decides


def field_name(code: str) -> str:
    return "topic-" + code.replace(":", "-").replace(".", "-")


class EmailPreferencesForm(forms.Form):
    """One radio group per topic that applies to ``user``; saving stores only the choices that
    differ from the topic's default (no row means the default, which may change later)."""

    def __init__(self, *args, user, topics, saved: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.topics = list(topics)
        for topic in self.topics:
            choices = [
                (mode, MODE_LABELS[mode] + (" (default)" if mode == topic.default else ""))
                for mode in EmailMode.values
            ]
            if topic.default is None:
                choices.insert(0, (SENDER_DEFAULT, "As the rule says (default)"))
            self.fields[field_name(topic.code)] = forms.ChoiceField(
                label=topic.label,
                help_text=topic.description,
                choices=choices,
                initial=saved.get(topic.code, topic.default or SENDER_DEFAULT),
                required=topic.default is not None,
                widget=forms.RadioSelect,
                error_messages={"required": "Choose how you want these emails."},
            )

    def groups(self) -> list[tuple[str, list]]:
        """The topics' bound fields grouped by the topic's group, in registration order."""
        grouped: dict[str, list] = {}
        for topic in self.topics:
            grouped.setdefault(topic.group, []).append(self[field_name(topic.code)])
        return list(grouped.items())

    @transaction.atomic
    def save(self) -> None:
        """One delete of the choices back to default, one upsert of the others."""
        chosen, back_to_default = [], []
        for topic in self.topics:
            mode = self.cleaned_data[field_name(topic.code)]
            if mode == (topic.default or SENDER_DEFAULT):
                back_to_default.append(topic.code)
            else:
                chosen.append(NotificationPreference(user=self.user, topic=topic.code, mode=mode))
        if back_to_default:
            NotificationPreference.objects.visible_to(self.user).filter(
                topic__in=back_to_default
            ).delete()
        if chosen:
            NotificationPreference.objects.bulk_create(
                chosen,
                update_conflicts=True,
                unique_fields=["user", "topic"],
                update_fields=["mode", "updated_at"],
            )


def turn_off(user, topic_codes: list[str]) -> None:
    """The one-click unsubscribe: no more email for these topics (the bell stays)."""
    NotificationPreference.objects.bulk_create(
        [NotificationPreference(user=user, topic=code, mode=EmailMode.OFF) for code in topic_codes],
        update_conflicts=True,
        unique_fields=["user", "topic"],
        update_fields=["mode", "updated_at"],
    )
