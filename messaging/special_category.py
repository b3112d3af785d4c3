"""A first check for special-category personal data in free text (R-MSG-4, terms 5.2).

It warns; it never blocks. The sender sees which kind of data the text seems
to contain and decides. Word lists are deliberately short and specific: a
warning on every message would teach people to ignore it.
"""

import re
from dataclasses import dataclass

CATEGORIES: dict[str, tuple[str, ...]] = {
    "racial or ethnic origin": ("ethnicity", "ethnic origin", "my race", "racial"),
    "political opinions": (
        "political views",
        "i vote",
        "voted for",
        "party member",
        "labour party",
        "conservative party",
    ),
    "religious or philosophical beliefs": (
        "my religion",
        "my faith",
        "i am muslim",
        "i'm muslim",
        "i am christian",
        "i'm christian",
        "i am jewish",
        "i'm jewish",
        "i am hindu",
        "i'm hindu",
        "i am sikh",
        "i'm sikh",
        "i am buddhist",
        "atheist",
        "mosque",
        "church every",
        "synagogue",
        "temple every",
    ),
    "trade union membership": ("trade union", "union member", "union rep"),
    "genetic or biometric data": ("genetic", "dna test", "fingerprint", "biometric"),
    "health": (
        "diagnosed",
        "diagnosis",
        "my illness",
        "depression",
        "anxiety",
        "cancer",
        "diabetes",
        "disability",
        "disabled",
        "adhd",
        "autism",
        "autistic",
        "dyslexia",
        "dyslexic",
        "mental health",
        "medication",
        "pregnant",
        "pregnancy",
        "therapy",
        "hiv",
    ),
    "sex life or sexual orientation": (
        "sexual orientation",
        "gay",
        "lesbian",
        "bisexual",
        "transgender",
        "my boyfriend",
        "my girlfriend",
        "sex life",
        "queer",
    ),
}

_PATTERNS = {
    category: re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)
    for category, words in CATEGORIES.items()
}


@dataclass(frozen=True)
class Finding:
    category: str
    phrase: str


def find_special_category(text: str) -> list[Finding]:
    """The categories the text appears to touch, with the first phrase that suggested each."""
    findings = []
    for category, pattern in _PATTERNS.items():
        match = pattern.search(text or "")
        if match:
            findings.append(Finding(category, match.group(0)))
    return findings


def warning_text(findings: list[Finding]) -> str:
    kinds = "; ".join(f"{f.category} (“{f.phrase}”)" for f in findings)
    return (
        f"This text seems to include special-category personal data: {kinds}. The scheme asks you not to share "
        "such data unless it is needed. Change the text, or tick the box to save it as it is."
    )
