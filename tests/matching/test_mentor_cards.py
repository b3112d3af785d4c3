"""The mentor cards of Find a mentor (R-MATCH-1), written by `matching.templatetags.mentor_cards`: every
field escaped, the link to the profile in the viewer's scheme, places or "paused", the reasons when given."""

from types import SimpleNamespace

from matching.listing import MentorCard
from matching.templatetags.mentor_cards import mentor_cards


def card(**changes) -> MentorCard:
    fields = {
        "pk": 5,
        "mentor_id": 7,
        "first_name": "Ann",
        "role_title": "Engineer",
        "sector": "Power",
        "areas": ["Careers", "Leadership"],
        "languages": ["English", "Welsh"],
        "country": "United Kingdom",
        "availability": "accepting",
        "active_mentees": 1,
        "capacity": 3,
    }
    return MentorCard(**(fields | changes))


def test_a_card_shows_the_mentor_and_links_to_the_profile_in_the_scheme():
    html = mentor_cards([card(reasons=["same sector", "speaks Welsh"])], SimpleNamespace(slug="iet-uk"))
    assert '<a href="/mentors/5/?scheme=iet-uk">Ann</a>' in html
    assert 'aria-labelledby="mentor-5"' in html and 'id="mentor-5"' in html
    assert "Engineer · Power" in html
    assert html.count('<span class="badge text-bg-light border me-1">') == 2
    assert "Speaks English, Welsh · United Kingdom" in html
    assert "1 of 3 places taken" in html
    assert "<strong>Why:</strong> same sector, speaks Welsh" in html


def test_one_place_paused_and_no_scheme_and_no_reasons():
    html = mentor_cards([card(capacity=1), card(pk=6, availability="paused")])
    assert '<a href="/mentors/5/">' in html and '<a href="/mentors/6/">' in html
    assert "1 of 1 place taken" in html
    assert "Paused: not taking requests" in html
    assert "Why:" not in html
    assert mentor_cards([]) == ""


def test_every_field_is_escaped():
    evil = '<script>alert("x")</script>'
    html = mentor_cards(
        [
            card(
                first_name=evil,
                role_title=evil,
                sector=evil,
                areas=[evil],
                languages=[evil],
                country=evil,
                reasons=[evil],
            )
        ],
        SimpleNamespace(slug='"><script>'),
    )
    assert "<script>" not in html
    assert html.count("&lt;script&gt;") == 8
