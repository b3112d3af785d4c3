"""A check for special-category personal data in free text (R-MSG-4, clause 5.2 of the scheme's terms).

It warns; it never blocks. The writer sees which kind of data the text seems to contain, with the clause
quoted, and decides. Messages and profile text both use it.

How to read and extend the word lists (WORDS below)
---------------------------------------------------
- One entry per line, under the category of clause 5.2 it suggests.
- Whole words only, never part of a word: "Jew" does not match "jewellery", "gay" does not match "Gaynor".
- Case does not matter, except for entries written in CAPITALS, which match only in capitals: "DUP" (the
  party) must not match "dup" (the programming call).
- The last word of an entry also matches with an "s" added: "Catholic" finds "Catholics".
- A space matches spaces and hyphens: "trade union" finds "trade-union". A hyphen matches only a hyphen:
  "left-wing" (politics) does not find "the left wing" (of an aircraft).
- A "*" at the end of an entry matches any ending: "diabet*" finds "diabetes" and "diabetic".
- Accents and curly apostrophes are ignored: "bahai" finds "Bahá'í", "crohn's" finds "Crohn’s".

Keep entries specific. A word with an everyday meaning at work is written as a phrase that is only about
the person: not "union" ("the union of two sets", "European Union") but "trade union"; not "health"
("health and safety", "a healthy project timeline") but "my health"; not "disabled" ("the alarm was
disabled") but "disability". A warning on every message would teach people to ignore it. Each change
should come with a sentence in tests/messaging/test_special_category.py that must (or must not) warn.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError

# The clause the warning quotes: the Career Mentoring Scheme's terms and conditions, 5.2.
CLAUSE_5_2 = (
    "Mentors and Mentees should not share or disclose personal data that is sensitive or special categories "
    "of personal data. The special categories of personal data are: personal data revealing racial or ethnic "
    "origin, political opinions, religious or philosophical beliefs, or trade union membership, genetic data "
    "or biometric data, data about health or data about a person's sex life or sexual orientation."
)

WORDS: dict[str, tuple[str, ...]] = {
    "racial or ethnic origin": (
        "ethnicity",
        "ethnic",
        "ethnically",
        "ethnic minority",
        "racial",
        "racially",
        "racism",
        "racist",
        "mixed race",
        "mixed heritage",
        "BAME",
        "person of colour",
        "people of colour",
        "person of color",
        "people of color",
        "black british",
        "white british",
        "black african",
        "black caribbean",
        "afro caribbean",
        "british asian",
        "british indian",
        "british pakistani",
        "british bangladeshi",
        "british chinese",
        "gypsy",
        "romani",
        "irish traveller",
        "aboriginal",
        "indigenous people",
        "indigenous community",
        "caste",
    ),
    "political opinions": (
        "political views",
        "political view",
        "political opinion",
        "political beliefs",
        "political party",
        "my politics",
        "party member",
        "party membership",
        "voted labour",
        "voted conservative",
        "voted tory",
        "voted green",
        "voted reform",
        "voted leave",
        "voted remain",
        "vote labour",
        "vote conservative",
        "vote tory",
        "vote reform",
        "labour party",
        "labour voter",
        "conservative party",
        "conservative voter",
        "tory",
        "tories",
        "lib dem",
        "liberal democrat",
        "green party",
        "SNP",
        "plaid cymru",
        "reform uk",
        "ukip",
        "sinn fein",
        "DUP",
        "alliance party",
        "democrat",
        "republican",
        "socialist",
        "communist",
        "marxist",
        "fascist",
        "anarchist",
        "libertarian",
        "nationalist",
        "unionist",
        "feminist",
        "zionist",
        "brexiteer",
        "remainer",
        "left-wing",
        "right-wing",
        "pro life",
        "pro choice",
    ),
    "religious or philosophical beliefs": (
        "religion",
        "religious",
        "my faith",
        "our faith",
        "faith community",
        "my beliefs",
        "philosophical beliefs",
        "atheist",
        "atheism",
        "agnostic",
        "humanist",
        "pacifist",
        "christianity",
        "christians",
        "a christian",
        "as a christian",
        "i am christian",
        "i'm christian",
        "christian faith",
        "christian values",
        "catholic",
        "catholicism",
        "anglican",
        "church of england",
        "protestant",
        "methodist",
        "baptist",
        "presbyterian",
        "evangelical",
        "pentecostal",
        "quaker",
        "greek orthodox",
        "russian orthodox",
        "orthodox church",
        "orthodox jew",
        "mormon",
        "latter day saint",
        "jehovah's witness",
        "muslim",
        "islam",
        "islamic",
        "sunni",
        "shia",
        "jew",
        "jewish",
        "judaism",
        "hasidic",
        "hindu",
        "hinduism",
        "sikh",
        "sikhism",
        "buddhist",
        "buddhism",
        "jainism",
        "zoroastrian",
        "bahai",
        "baha'i",
        "rastafarian",
        "pagan",
        "wiccan",
        "taoist",
        "scientologist",
        "scientology",
        "my church",
        "go to church",
        "churchgoer",
        "church on sunday",
        "mosque",
        "synagogue",
        "gurdwara",
        "mandir",
        "prayer",
        "prayer room",
        "imam",
        "rabbi",
        "vicar",
        "priest",
        "ramadan",
        "shabbat",
        "sabbath",
        "yom kippur",
    ),
    "trade union membership": (
        "trade union",
        "trades union",
        "union member",
        "union membership",
        "union rep",
        "union representative",
        "my union",
        "joined the union",
        "shop steward",
        "unionised",
        "unionized",
        "TUC",
        "GMB",
        "RMT",
    ),
    "genetic data": (
        "genetic test",
        "genetic testing",
        "genetic condition",
        "genetic disorder",
        "genetic disease",
        "genetic screening",
        "genetic predisposition",
        "genetic results",
        "genetic makeup",
        "my genes",
        "my dna",
        "dna test",
        "dna testing",
        "dna results",
        "genome sequencing",
        "hereditary condition",
        "BRCA*",
        "23andme",
    ),
    "biometric data": (
        "biometric data",
        "biometric information",
        "biometric details",
        "my biometrics",
        "my fingerprint",
        "my fingerprints",
        "retina scan",
        "iris scan",
        "face scan",
        "facial scan",
        "voiceprint",
    ),
    "health": (
        "my health",
        "ill health",
        "health condition",
        "health problem",
        "health issue",
        "medical condition",
        "medical history",
        "mental health",
        "mental illness",
        "my illness",
        "chronic illness",
        "chronic pain",
        "chronic fatigue",
        "diagnosed with",
        "my diagnosis",
        "a diagnosis of",
        "sick leave",
        "off sick",
        "was in hospital",
        "been in hospital",
        "am in hospital",
        "stay in hospital",
        "hospital stay",
        "hospital appointment",
        "admitted to hospital",
        "had surgery",
        "having surgery",
        "my surgery",
        "my medication",
        "on medication",
        "medication for",
        "antidepressant",
        "my therapist",
        "my counsellor",
        "in therapy",
        "depression",
        "depressive",
        "my anxiety",
        "anxiety disorder",
        "social anxiety",
        "panic attack",
        "bipolar",
        "schizophrenia",
        "OCD",
        "ptsd",
        "eating disorder",
        "anorexia",
        "bulimia",
        "self harm",
        "suicidal",
        "suicide",
        "addiction",
        "alcoholism",
        "alcoholic",
        "rehab",
        "adhd",
        "autism",
        "autistic",
        "asperger*",
        "dyslexia",
        "dyslexic",
        "dyspraxia",
        "dyscalculia",
        "neurodivergent",
        "disability",
        "disabilities",
        "disabled person",
        "disabled people",
        "i am disabled",
        "i'm disabled",
        "registered disabled",
        "hearing aid",
        "my wheelchair",
        "wheelchair user",
        "deafness",
        "i am deaf",
        "i'm deaf",
        "partially sighted",
        "visually impaired",
        "hearing impaired",
        "registered blind",
        "cancer",
        "chemotherapy",
        "chemo",
        "radiotherapy",
        "tumour",
        "tumor",
        "diabet*",
        "insulin",
        "asthma",
        "epilep*",
        "had a stroke",
        "heart attack",
        "heart condition",
        "multiple sclerosis",
        "arthritis",
        "migraine",
        "long covid",
        "had covid",
        "hiv",
        "hepatitis",
        "crohn's",
        "IBS",
        "endometriosis",
        "menopause",
        "menopausal",
        "dementia",
        "alzheimer's",
        "parkinson's",
        "pregnant",
        "pregnancy",
        "miscarriage",
        "ivf",
        "fertility treatment",
    ),
    "sex life or sexual orientation": (
        "sexual orientation",
        "sexuality",
        "sex life",
        "sexual partner",
        "sexual health",
        "gay",
        "lesbian",
        "bisexual",
        "homosexual",
        "heterosexual",
        "pansexual",
        "asexual",
        "queer",
        "lgbt",
        "lgbtq",
        "lgbtq+",
        "lgbtqia+",
        "transgender",
        "trans woman",
        "trans man",
        "trans people",
    ),
}


def normalise(text: str) -> str:
    """Text as the lists are written: accents dropped, curly apostrophes straight, so a maintainer
    writes plain ASCII."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.replace("\u2019", "'").replace("\u2018", "'")


def _entry_pattern(entry: str) -> str:
    """One entry as a regular expression, by the rules in this module's docstring."""
    wildcard = entry.endswith("*")
    words = normalise(entry.rstrip("*")).split()
    body = r"[\s\-]+".join(re.escape(w) for w in words)
    ending = r"\w*" if wildcard else "s?"
    if entry.isupper():
        return body + ending  # capitals match capitals only
    return "(?i:" + body + ending + ")"


def _category_pattern(entries: tuple[str, ...]) -> re.Pattern:
    # Longest first, so the finding names the most telling phrase ("ethnic minority", not "ethnic").
    ordered = sorted(entries, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(_entry_pattern(e) for e in ordered) + r")(?!\w)")


_PATTERNS = {category: _category_pattern(entries) for category, entries in WORDS.items()}

# Kept for callers of the first version of this module.
CATEGORIES = WORDS


@dataclass(frozen=True)
class Finding:
    category: str
    phrase: str


def find_special_category(text: str) -> list[Finding]:
    """The categories the text appears to touch, each with the first phrase that suggested it."""
    plain = normalise(text)
    findings = []
    for category, pattern in _PATTERNS.items():
        match = pattern.search(plain)
        if match:
            findings.append(Finding(category, match.group(0)))
    return findings


def _kinds(findings: list[Finding]) -> str:
    return "; ".join(f"{f.category} (“{f.phrase}”)" for f in findings)


def warning_text(findings: list[Finding]) -> str:
    """The warning on profile text, where the writer ticks a box to save it as it is."""
    return (
        f"This text seems to include special-category personal data: {_kinds(findings)}. "
        f"Clause 5.2 of the scheme's terms says: “{CLAUSE_5_2}” "
        "Change the text, or tick the box to save it as it is."
    )


def message_warning_text(findings: list[Finding]) -> str:
    """The warning before a message is sent: the writer edits it or sends it anyway."""
    return (
        f"Your message seems to include special-category personal data: {_kinds(findings)}. "
        f"Clause 5.2 of the scheme's terms says: “{CLAUSE_5_2}” "
        "Edit your message, or send it anyway."
    )


class SpecialCategoryWarning(ValidationError):
    """Raised before a message that seems to hold special-category data is stored, unless the writer
    confirmed it. A ValidationError, so any caller that shows validation errors shows this one too."""

    def __init__(self, findings: list[Finding]):
        self.findings = findings
        self.text = message_warning_text(findings)
        super().__init__(self.text, code="special_category")
