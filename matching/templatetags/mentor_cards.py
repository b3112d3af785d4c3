"""Mentor cards, written in Python: the search page shows 25 of them, and through the template engine they
were a fifth of the page's time. The markup is the one the cards always had."""

from html import escape

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from matching.listing import MentorCard

register = template.Library()

_BADGE = '<span class="badge text-bg-light border me-1">{}</span>'
_PLACEHOLDER = 987654321  # an id no profile has, replaced by each card's own in the reversed URL


def _card(card: MentorCard, url: str, query: str) -> str:
    """One card's HTML. Every value is escaped with `html.escape`, as Django's `escape` does (the same
    characters, the same entities) without its per-value wrapping, which was most of the cards' time."""
    if card.availability == "paused":
        places = "Paused: not taking requests"
    else:
        places = f"{card.active_mentees} of {card.capacity} place{'' if card.capacity == 1 else 's'} taken"
    reasons = ""
    if card.reasons:
        reasons = f'<p class="small mt-2 mb-0"><strong>Why:</strong> {escape(", ".join(card.reasons))}</p>'
    areas = "".join(_BADGE.format(escape(area)) for area in card.areas)
    pk = escape(str(card.pk))
    href = escape(url.replace(str(_PLACEHOLDER), str(card.pk)) + query)
    return (
        f'<div class="col">\n<article class="card h-100" aria-labelledby="mentor-{pk}">\n  <div class="card-body">\n'
        f'    <h3 class="h5 card-title" id="mentor-{pk}"><a href="{href}">{escape(card.first_name)}</a></h3>\n'
        f'    <p class="card-subtitle mb-2">{escape(card.role_title)} · {escape(card.sector)}</p>\n'
        f'    <p class="small mb-1">{areas}</p>\n'
        f'    <p class="small mb-1">Speaks {escape(", ".join(card.languages))} · {escape(card.country)}</p>\n'
        f'    <p class="small mb-0">{escape(places)}</p>\n'
        f"    {reasons}\n  </div>\n</article>\n</div>"
    )


@register.simple_tag
def mentor_cards(cards, scheme=None) -> SafeString:
    """Each card in a Bootstrap column: name (a link to the profile, in `scheme`), role and sector, areas,
    languages and country, places taken, and the reasons it was suggested, when it was."""
    url = reverse("mentor_detail", args=[_PLACEHOLDER])
    query = f"?scheme={scheme.slug}" if scheme else ""
    return mark_safe("".join(_card(card, url, query) for card in cards))  # noqa: S308 (every value escaped in _card)
