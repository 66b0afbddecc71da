"""Template helpers of the shared layout: Bootstrap form fields, role labels, block capture."""

from __future__ import annotations

from django import forms, template
from django.forms.boundfield import BoundField, BoundWidget
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe

register = template.Library()

ROLE_LABELS = {
    "admin": "Admin",
    "manager": "Partner manager",
    "partner_admin": "Partner admin",
    "partner_member": "Partner member",
}


@register.filter
def role_label(role) -> str:
    """The friendly name of a ``prm.access.Role`` ("" for anonymous and role-less users)."""
    return ROLE_LABELS.get(str(role or ""), "")


def _join_classes(*parts: str | None) -> str:
    seen: list[str] = []
    for part in parts:
        for name in (part or "").split():
            if name not in seen:
                seen.append(name)
    return " ".join(seen)


def _widget_class(widget: forms.Widget) -> str:
    """The Bootstrap 5 class a widget's <input>/<select>/<textarea> takes."""
    if isinstance(widget, forms.MultiWidget):
        return _widget_class(widget.widgets[0]) if widget.widgets else "form-control"
    if isinstance(widget, (forms.CheckboxInput, forms.RadioSelect, forms.CheckboxSelectMultiple)):
        return "form-check-input"
    if isinstance(widget, (forms.Select, forms.SelectMultiple)):
        return "form-select"
    input_type = getattr(widget, "input_type", None)
    if input_type == "range":
        return "form-range"
    if input_type == "color":
        return "form-control form-control-color"
    return "form-control"


@register.filter
def widget_kind(field: BoundField) -> str:
    """How a field is laid out: "hidden", "checkbox", "choices" (radios/checkboxes) or "input"."""
    widget = field.field.widget
    if widget.is_hidden:
        return "hidden"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, (forms.RadioSelect, forms.CheckboxSelectMultiple)):
        return "choices"
    return "input"


@register.filter
def add_class(field, css_class: str):
    """Render a bound field's widget (or one radio/checkbox of it) with extra CSS classes.

    Works on a ``BoundField`` and on a ``BoundWidget`` (an item of ``field.subwidgets``).
    """
    if isinstance(field, BoundWidget):
        attrs = dict(field.data.get("attrs") or {})
        attrs["class"] = _join_classes(attrs.get("class"), css_class)
        context = {"widget": {**field.data, "attrs": attrs, "wrap_label": False}}
        return field.parent_widget._render(field.template_name, context, field.renderer)
    if not isinstance(field, BoundField):
        return field
    existing = field.field.widget.attrs.get("class")
    return field.as_widget(attrs={"class": _join_classes(existing, css_class)})


@register.filter
def bs_field(field, extra: str = ""):
    """A bound field's widget in Bootstrap 5 style: the right form-* class, ``is-invalid`` when
    the field has errors. Django itself adds ``aria-invalid`` and ``aria-describedby`` pointing at
    ``<id>_helptext`` and ``<id>_error``, which ``prm/partials/form_fields.html`` renders."""
    if isinstance(field, BoundWidget):
        return add_class(field, _join_classes("form-check-input", extra))
    if not isinstance(field, BoundField):
        return field
    classes = _join_classes(_widget_class(field.field.widget), extra)
    if field.errors:
        classes = _join_classes(classes, "is-invalid")
    return add_class(field, classes)


@register.simple_tag(takes_context=True)
def safe_redirect_field(context) -> str:
    """allauth's hidden ``next`` input, left out when ``next`` points off-site.

    allauth echoes the raw parameter into the page (it checks it only when redirecting); an
    off-site address has no business in our HTML at all.
    """
    name = context.get("redirect_field_name")
    value = context.get("redirect_field_value")
    request = context.get("request")
    if not (name and value and request):
        return ""
    if not url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return ""
    return format_html('<input type="hidden" name="{}" value="{}">', name, value)


class CaptureNode(template.Node):
    def __init__(self, nodelist: template.NodeList, var: str) -> None:
        self.nodelist = nodelist
        self.var = var

    def render(self, context) -> str:
        context[self.var] = mark_safe(self.nodelist.render(context).strip())  # noqa: S308
        return ""


@register.tag
def capture(parser, token):
    """``{% capture name %}…{% endcapture %}``: render the body (blocks too) into ``name``,
    stripped, so that the layout can leave out a wrapper whose block a page left empty."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError("Usage: {% capture name %}…{% endcapture %}")
    nodelist = parser.parse(("endcapture",))
    parser.delete_first_token()
    return CaptureNode(nodelist, bits[1])
