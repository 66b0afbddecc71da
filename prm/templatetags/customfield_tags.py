"""``{% custom_fields_card record %}``: a detail page's card of the record's custom fields."""

from django import template

from prm.customfields import display, fields_for

register = template.Library()


@register.inclusion_tag("prm/partials/custom_fields.html", takes_context=True)
def custom_fields_card(context, record, title="More details"):
    """The custom fields the viewer may see on ``record``, label and value ("—" when unset);
    nothing at all when the record type has none. One query per page (``fields_for``)."""
    fields = fields_for(type(record), context["request"].user)
    return {
        "title": title,
        "rows": [(field, display(record, field)) for field in fields],
    }
