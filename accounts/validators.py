"""Validators for what members type."""

import re

from django.core.exceptions import ValidationError

# Characters a single-line field (a name, a job title) never holds: the C0 and C1
# controls (line feed, carriage return, tab, NUL, DEL…), the Unicode line and
# paragraph separators, and the bidirectional overrides and isolates that make a
# name read differently from what it is. A name flows into email headers, where a
# line break is refused outright, and into lists staff read. Zero-width joiners
# and non-joiners stay allowed: Persian and Indic names and emoji need them.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def validate_single_line(value: str) -> None:
    """Refuse line breaks, tabs and other control characters in a one-line field."""
    if value and CONTROL_CHARACTERS.search(value):
        raise ValidationError(
            "Write this on one line, without line breaks, tabs or other invisible control characters.",
            code="control_characters",
        )


def single_line(text: str) -> str:
    """`text` on one line: each run of control characters and whitespace becomes one space."""
    return " ".join(CONTROL_CHARACTERS.sub(" ", text).split())
