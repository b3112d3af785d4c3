"""The special-category detector (R-MSG-4, terms 5.2): sentences that must warn, and sentences that must not.

Pure functions, no database. A change to the word lists in messaging/special_category.py comes with a
sentence here.
"""

import re

import pytest
from django.core.exceptions import ValidationError

from messaging.special_category import (
    CLAUSE_5_2,
    WORDS,
    SpecialCategoryWarning,
    find_special_category,
    message_warning_text,
    warning_text,
)

RACE = "racial or ethnic origin"
POLITICS = "political opinions"
BELIEF = "religious or philosophical beliefs"
UNION = "trade union membership"
GENETIC = "genetic data"
BIOMETRIC = "biometric data"
HEALTH = "health"
SEX = "sex life or sexual orientation"

MUST_WARN = [
    # Racial or ethnic origin.
    ("As a Black British engineer I noticed it", RACE),
    ("My ethnicity came up at the interview", RACE),
    ("I come from an ethnic minority background", RACE),
    ("I'm mixed race", RACE),
    ("She faced racism on site", RACE),
    ("Our BAME network meets monthly", RACE),
    ("My family are Romani", RACE),
    # Political opinions.
    ("I'm a Labour Party member", POLITICS),
    ("I voted Conservative last time", POLITICS),
    ("I've always been a Tory", POLITICS),
    ("My political views are fairly left-wing", POLITICS),
    ("I campaign with the Green Party", POLITICS),
    ("He's an SNP councillor", POLITICS),
    ("I'm a socialist at heart", POLITICS),
    ("As a Lib Dem I disagree", POLITICS),
    ("I was a Remainer", POLITICS),
    ("The DUP canvassers came round", POLITICS),
    # Religious or philosophical beliefs: every affiliation the issue names, and more.
    ("I'm Catholic, so Fridays are tricky", BELIEF),
    ("We're Catholics", BELIEF),
    ("I was raised Anglican", BELIEF),
    ("My parents are Methodist", BELIEF),
    ("I'm a Quaker", BELIEF),
    ("As a Muslim I fast during Ramadan", BELIEF),
    ("I am a Jew", BELIEF),
    ("I'm Jewish", BELIEF),
    ("We are Hindu", BELIEF),
    ("I'm Sikh", BELIEF),
    ("I became a Buddhist last year", BELIEF),
    ("I'm an atheist", BELIEF),
    ("I'm agnostic", BELIEF),
    ("I'm a Christian", BELIEF),
    ("Christianity matters to me", BELIEF),
    ("I'm a Baptist", BELIEF),
    ("My Greek Orthodox family", BELIEF),
    ("He is a Jehovah's Witness", BELIEF),
    ("He is a Jehovah’s Witness", BELIEF),
    ("She follows the Bahá’í faith", BELIEF),
    ("I'm Mormon", BELIEF),
    ("I go to the mosque on Fridays", BELIEF),
    ("I go to church on Sundays", BELIEF),
    ("I'll be at synagogue", BELIEF),
    ("Friday prayers run late", BELIEF),
    ("My religion matters to me", BELIEF),
    ("I'm not religious", BELIEF),
    ("Humanist weddings are lovely", BELIEF),
    ("I'm a pacifist", BELIEF),
    # Trade union membership.
    ("I'm a trade union rep", UNION),
    ("I joined the trade-union last year", UNION),
    ("As a union member I can't comment", UNION),
    ("I'm the shop steward", UNION),
    ("I'm in the GMB", UNION),
    # Genetic data.
    ("My DNA test showed a risk", GENETIC),
    ("I had genetic testing", GENETIC),
    ("I carry the BRCA1 gene", GENETIC),
    ("I have a genetic condition", GENETIC),
    # Biometric data.
    ("They took my fingerprints", BIOMETRIC),
    ("The retina scan data was stored", BIOMETRIC),
    ("It keeps biometric data", BIOMETRIC),
    # Health.
    ("I was diagnosed with dyslexia", HEALTH),
    ("I have ADHD", HEALTH),
    ("I'm autistic", HEALTH),
    ("My mental health has been poor", HEALTH),
    ("I have depression", HEALTH),
    ("My anxiety is bad before interviews", HEALTH),
    ("I'm on medication for it", HEALTH),
    ("I'm pregnant", HEALTH),
    ("Back to work after cancer treatment", HEALTH),
    ("I'm type 2 diabetic", HEALTH),
    ("I have epilepsy", HEALTH),
    ("I'm off sick this week", HEALTH),
    ("I was in hospital", HEALTH),
    ("My disability means I work from home", HEALTH),
    ("I'm a wheelchair user", HEALTH),
    ("I had a stroke last year", HEALTH),
    ("I have Crohn’s", HEALTH),
    ("Long COVID wiped me out", HEALTH),
    ("I'm HIV positive", HEALTH),
    ("My IVF starts next month", HEALTH),
    ("Menopause symptoms", HEALTH),
    ("I see my therapist on Tuesdays", HEALTH),
    # Sex life or sexual orientation.
    ("I'm gay", SEX),
    ("As a lesbian in engineering", SEX),
    ("I'm bisexual", SEX),
    ("I'm part of the LGBTQ+ network", SEX),
    ("I'm transgender", SEX),
    ("My sexuality is private", SEX),
    ("My sex life is none of their business", SEX),
    ("Sexual orientation came up", SEX),
]

MUST_NOT_WARN = [
    "a healthy project timeline",
    "the union of two sets",
    "the European Union rules on exports",
    "Trade with the EU after the customs union",
    "the party wall between the two houses",
    "We're having a party on Friday",
    "a trade-off between cost and speed",
    "a race condition in the scheduler",
    "I ran a race on Sunday",
    "The health and safety briefing is on Monday",
    "Run a health check on the server",
    "Diagnosis of the fault took a week",
    "The engineer diagnosed the fault",
    "The alarm was disabled for the test",
    "Disable the feature flag",
    "a conservative estimate",
    "Labour costs went up",
    "The labour market is tight",
    "The left wing of the aircraft",
    "The far right column of the table",
    "We voted for the blue logo",
    "I vote we ship it on Friday",
    "an orthodox approach to testing",
    "Meet me at Church Street",
    "a genetic algorithm for scheduling",
    "a biometric login for the app",
    "the fingerprint scanner firmware",
    "Her jewellery business",
    "The signal is depressed by 3 dB",
    "Stress testing the bridge",
    "We need to pray... no, test",
    "Christian from the design team will join us",
    "Priya Jain leads the project",
    "Unite the two datasets",
    "Sign the Brexit paperwork for customs",
    "Prospective employers like chartership",
    "Apply for the graduate scheme",
    "dup the file descriptor",
    "Use a straight edge",
    "The result came out as 42",
    "We are coming out of the meeting now",
    "a trans-Atlantic cable",
    "the gamma ray source",
    "Temple Meads station",
    "Mass flow rate and mass balance",
    "An heir to the project",
    "The therapy room booking system",
    "She works in hospital engineering",
    "Wheelchair access at the venue is good",
    "The Christmas break starts on the 20th",
]


@pytest.mark.parametrize(("text", "category"), MUST_WARN)
def test_special_category_data_is_recognised(text, category):
    # R-MSG-4: every category of clause 5.2, religious affiliations included
    assert category in [f.category for f in find_special_category(text)], text


@pytest.mark.parametrize("text", MUST_NOT_WARN)
def test_ordinary_sentences_do_not_warn(text):
    # R-MSG-4: a warning on every message would teach people to ignore it
    assert find_special_category(text) == [], text


def test_every_category_of_clause_5_2_has_a_word_list():
    # R-MSG-4: the lists cover the clause, each category named as the clause names it
    for category in WORDS:
        for word in re.split(r" or |, ", category):
            assert word.replace("data", "").strip() in CLAUSE_5_2, category
    assert set(WORDS) >= {RACE, POLITICS, BELIEF, UNION, GENETIC, BIOMETRIC, HEALTH, SEX}


def test_the_lists_are_plain_entries_a_maintainer_can_read():
    for category, entries in WORDS.items():
        assert entries, category
        assert len(set(entries)) == len(entries), f"{category} lists a word twice"
        for entry in entries:
            assert entry == entry.strip() and "  " not in entry
            assert re.fullmatch(r"[A-Za-z0-9 '+\-]+\*?", entry), entry


def test_whole_words_only_and_case_rules():
    assert find_special_category("JEWISH") and find_special_category("jewish")
    assert not find_special_category("jewellery")
    assert not find_special_category("gaynor")
    assert find_special_category("The DUP") and not find_special_category("the dup call")


def test_the_finding_names_the_category_and_the_phrase():
    [finding] = find_special_category("I'm a Quaker")
    assert (finding.category, finding.phrase) == (BELIEF, "Quaker")


def test_the_warnings_quote_clause_5_2():
    findings = find_special_category("I'm Catholic")
    for text in (message_warning_text(findings), warning_text(findings)):
        assert CLAUSE_5_2 in text
        assert "religious or philosophical beliefs (“Catholic”)" in text
    assert "send it anyway" in message_warning_text(findings)
    warning = SpecialCategoryWarning(findings)
    assert isinstance(warning, ValidationError)
    assert warning.messages == [message_warning_text(findings)]


def test_empty_text_is_safe():
    assert find_special_category("") == []
    assert find_special_category(None) == []
