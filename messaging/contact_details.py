"""Does a message appear to carry contact details? (R-MSG-7; the scheme's terms, 1.2: contact only through the
platform.) Pure functions over the text: no database, no settings.

Four kinds, each a small set of patterns a maintainer can read:
- an email address: name@example.org, and the spelled-out forms "name at example dot org", "name (at) example.org";
- a phone number: UK numbers (07700 900123, 020 7946 0958, +44 (0)7700 900123), international ones
  (+33 1 23 45 67 89, 0049 30 1234567), North American 415-555-0132, and any number after "call me on" and
  the like. Dates, years, times, version numbers, amounts and reference numbers are not phone numbers;
- a messaging or video handle: Teams, Zoom, Skype, WhatsApp, Telegram, Signal, Discord and similar links,
  "@handle", "my Skype is …", "add me on WhatsApp", "Discord: name#1234", meeting ids and passcodes;
- a web address: http(s)://…, www.…, and bare domains such as example.com.

It errs towards holding: a coordinator releases a false alarm in a moment, while a number passed on cannot
be taken back. Each change comes with a sentence in tests/messaging/test_contact_details.py.
"""

from __future__ import annotations

import re

EMAIL = "email"
PHONE = "phone"
HANDLE = "handle"
URL = "url"

# In the order they are named to the writer.
KINDS = (EMAIL, PHONE, HANDLE, URL)
LABELS = {
    EMAIL: "an email address",
    PHONE: "a phone number",
    HANDLE: "a messaging or video handle",
    URL: "a web address",
}

# Top-level domains that people pass on. Kept short on purpose: "setup.py", "readme.md", "self.info" and
# "this.page" are code, not addresses.
TLDS = r"(?:com|org|net|io|co|uk|me|biz|dev|app|ly|gg|us|eu|de|fr|ie|nl|au|ca|nz|ai|tv|xyz)"
# Names of things that look like domains and are not.
NOT_DOMAINS = {"asp.net", "vb.net", "ado.net", "socket.io"}

_SPELLED_DOT = r"(?:\s*[\[({]\s*dot\s*[\])}]\s*|\s+dot\s+)"
_DOT = rf"(?:\.|{_SPELLED_DOT})"
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"

_EMAIL = re.compile(r"(?<![\w.+'-])[\w.+'-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}(?![\w-])", re.IGNORECASE)
# Spelled out, ending in a known domain: "jo (at) example.org", "jo at example dot com". With a plain " at "
# the last dot must be spelled too, or "my portfolio is at example.com" would be an email address.
_EMAIL_SPELLED = re.compile(
    rf"(?<![\w.+-])[\w+-]+(?:{_DOT}[\w+-]+)*"
    rf"(?:\s*[\[({{]\s*at\s*[\])}}]\s*{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}"
    rf"|\s+at\s+{_LABEL}(?:{_DOT}{_LABEL})*{_SPELLED_DOT}){TLDS}(?![\w-])",
    re.IGNORECASE,
)

_URL_WITH_SCHEME = re.compile(r"\b(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_BARE_DOMAIN = re.compile(rf"(?<![\w@.\-/])(?:{_LABEL}\.)+{TLDS}(?![\w-]|\.[a-z0-9])(?:/[^\s<>\"']*)?", re.IGNORECASE)

# Links to the messaging and video services themselves.
_SERVICE_LINK = re.compile(
    r"(?<![\w-])(?:teams\.microsoft\.com|teams\.live\.com|(?:[\w-]+\.)?zoom\.us|join\.skype\.com|skype:[\w.:-]+|"
    r"wa\.me|chat\.whatsapp\.com|api\.whatsapp\.com|t\.me|telegram\.me|signal\.me|signal\.group|"
    r"discord\.gg|discord(?:app)?\.com/(?:invite|users)|meet\.google\.com|[\w-]+\.webex\.com|whereby\.com|"
    r"meet\.jit\.si|m\.me)\b",
    re.IGNORECASE,
)
# Services whose names are also everyday words ("our teams", "a signal", "zoom in", "the line id") count
# only with "handle" or "username", or after "add me on".
_PLATFORMS_PLAIN = (
    r"skype|discord|telegram|whatsapp|snapchat|instagram|insta|wechat|viber|facebook|linkedin|twitter|tiktok|"
    r"facetime|imessage|kik|bluesky|mastodon"
)
_PLATFORMS_AMBIGUOUS = r"microsoft\s+teams|teams|zoom|signal|messenger|google\s+meet|webex"
_PLATFORMS = rf"(?:{_PLATFORMS_PLAIN}|{_PLATFORMS_AMBIGUOUS})"
_ID_WORD = r"(?:id|handle|username|user\s*name|user\s*id|name|number)"
# What a handle looks like on its own: it has a dot, underscore, @, # or digit ("jo.bloggs", "@jo", "jo_b",
# "jo99"), so "LinkedIn: update your profile" is not one.
_HANDLE_LIKE = r"@?[\w+-]*[._@#\d][\w.#@+-]*"
_HANDLE_PATTERNS = [
    _SERVICE_LINK,
    # "my Skype name is jobloggs", "my WhatsApp number: ...", "my Skype is jo.bloggs"
    re.compile(rf"\bmy\s+{_PLATFORMS}\s+{_ID_WORD}\s*(?:is|:|=)\s*\S{{3,}}", re.IGNORECASE),
    re.compile(rf"\bmy\s+{_PLATFORMS}\s*(?:is|:|=)\s*{_HANDLE_LIKE}", re.IGNORECASE),
    # "Skype: jo.bloggs", "Skype id: jobloggs", "Telegram username is jo"
    re.compile(rf"\b(?:{_PLATFORMS_PLAIN})\s*[:=]\s*{_HANDLE_LIKE}", re.IGNORECASE),
    re.compile(rf"\b(?:{_PLATFORMS_PLAIN})\s+{_ID_WORD}\s*(?:is|:|=)\s*\S{{3,}}", re.IGNORECASE),
    # "Signal username jo.99", "Teams handle: ..."
    re.compile(rf"\b{_PLATFORMS}\s+(?:handle|username|user\s*name)\s*(?::|=|is)?\s*\S{{3,}}", re.IGNORECASE),
    # "add me on WhatsApp", "find me on LinkedIn", "message me via Telegram", "call me on Teams"
    re.compile(
        r"\b(?:add|message|msg|text|call|ring|phone|find|contact|reach|dm|ping|follow|connect\s+with|chat\s+with|"
        rf"talk\s+to|speak\s+to|video\s+call)\s+me\s+(?:on|via|at|over|through|using)\s+{_PLATFORMS}\b",
        re.IGNORECASE,
    ),
    # Meeting ids and passcodes: "Meeting ID: 812 3456 7890", "passcode: 4kT9x", "passcode 482913"
    re.compile(
        r"\b(?:meeting|conference|webinar|zoom|teams)\s+(?:id|number|no\.?|code)\s*(?:is)?\s*[:#]?\s*"
        r"\d[\d\s-]{5,}\d",
        re.IGNORECASE,
    ),
    re.compile(r"\b(?:passcode|pass\s+code|meeting\s+password)(?:\s*(?:is|:|=)\s*\S{4,}|\s+\S*\d\S*)", re.IGNORECASE),
]
# "@jo_bloggs": an at sign that starts a word. Group mentions are not contact details.
_AT_HANDLE = re.compile(r"(?<![\w@.])@([a-z_][\w.]{1,30}[\w])", re.IGNORECASE)
_NOT_HANDLES = {"all", "everyone", "here", "channel", "home", "work", "office", "me", "you", "team"}
# Discord's "name#1234" counts where Discord is named (elsewhere "issue#1234" is a ticket).
_DISCORD_TAG = re.compile(r"\b[\w.]{2,32}#\d{4}\b")

# Phone numbers: a run of digits with spaces, hyphens, brackets or dots, not part of a longer number, an
# amount (£12,000), a date (12/03/2026), a time (10:30) or a version (v2.3.1).
_NUMBER_RUN = re.compile(
    r"(?<![\w£$€¥.,/:#+\-])(\+\s?)?(\(?\d[\d().\- ]*\d\)?)(?![\w%£$€]|[.,/:\-]\d)",
)
_NORTH_AMERICAN = re.compile(r"\(?\d{3}\)?[\s.\-]?\d{3}[\s.\-]\d{4}")
# Words that say the number after them is a phone number: "call me on 4960 000", "mobile: 7946 0958".
_PHONE_CUE = re.compile(
    r"\b(?:call|ring|phone|mobile|mob|tel|telephone|text|sms|whatsapp|cell|landline)\b"
    r"(?:\s+(?:me|us|my|him|her|them|on|at|is|number|no\.?))*\s*[:\-]?\s*$",
    re.IGNORECASE,
)


# The most groups a phone number is written in ("+33 1 23 45 67 89" has six).
MOST_CHUNKS = 7


def _is_phone(candidate: str, *, international: bool) -> bool:
    digits = re.sub(r"\D", "", candidate)
    if "." in candidate:
        return bool(_NORTH_AMERICAN.fullmatch(candidate))  # dotted: 415.555.0132, never 3.12.1 or a date
    if international:
        return 8 <= len(digits) <= 15
    groups = [g for g in re.split(r"[\s\-()]+", candidate) if g]
    if digits.startswith("00"):
        return 11 <= len(digits) <= 15 and all(len(g) >= 2 for g in groups)
    if digits.startswith("0"):
        # UK: 10 or 11 digits (01…, 02…, 03…, 07…, 08…), written in a few groups of two or more.
        return len(digits) in (10, 11) and digits[1] != "0" and len(groups) <= 4 and all(len(g) >= 2 for g in groups)
    return bool(_NORTH_AMERICAN.fullmatch(candidate))


def _has_phone(text: str) -> bool:
    for match in _NUMBER_RUN.finditer(text):
        plus, run = match.group(1), match.group(2)
        chunks = run.split()
        # Any stretch of whole chunks may be the number: "07700 900123 2 times" holds one.
        for start in range(len(chunks)):
            for end in range(min(len(chunks), start + MOST_CHUNKS), start, -1):
                if _is_phone(" ".join(chunks[start:end]), international=bool(plus) and start == 0):
                    return True
        digits = re.sub(r"\D", "", run)
        if "." not in run and 7 <= len(digits) <= 15 and _PHONE_CUE.search(text[: match.start()]):
            return True
    return False


def _has_email(text: str) -> bool:
    return bool(_EMAIL.search(text) or _EMAIL_SPELLED.search(text))


def _has_url(text: str) -> bool:
    if _URL_WITH_SCHEME.search(text):
        return True
    for match in _BARE_DOMAIN.finditer(text):
        domain = match.group(0).split("/")[0].lower()
        if domain not in NOT_DOMAINS and re.search(r"[a-z]", domain.rsplit(".", 1)[0]):
            return True
    return False


def _has_handle(text: str) -> bool:
    if any(pattern.search(text) for pattern in _HANDLE_PATTERNS):
        return True
    if any(m.group(1).lower() not in _NOT_HANDLES for m in _AT_HANDLE.finditer(text)):
        return True
    return bool(re.search(r"\bdiscord\b", text, re.IGNORECASE) and _DISCORD_TAG.search(text))


_CHECKS = {EMAIL: _has_email, PHONE: _has_phone, HANDLE: _has_handle, URL: _has_url}


def find_contact_details(text: str) -> list[str]:
    """The kinds of contact detail the text appears to carry (EMAIL, PHONE, HANDLE, URL), in that order."""
    text = text or ""
    if not text.strip():
        return []
    # An email address is not also "@example" as a handle nor "example.org" as a web address.
    without_emails = _EMAIL_SPELLED.sub(" ", _EMAIL.sub(" ", text))
    found = []
    for kind in KINDS:
        if _CHECKS[kind](text if kind == EMAIL else without_emails):
            found.append(kind)
    return found


def describe(kinds) -> str:
    """The kinds in words: "an email address", "an email address and a phone number", "a, b and c"."""
    labels = [LABELS[k] for k in KINDS if k in set(kinds)]
    if not labels:
        return "contact details"
    if len(labels) == 1:
        return labels[0]
    return ", ".join(labels[:-1]) + " and " + labels[-1]


def held_notice(kinds) -> str:
    """What the writer is told when their message is held (R-MSG-7)."""
    return (
        f"Your message is held: it seems to contain {describe(kinds)}. This scheme keeps all contact on the "
        "platform, so a coordinator checks a message like this before your partner sees it. You will be told "
        "when it is released or rejected."
    )


def rejected_notice(kinds) -> str:
    """What the writer sees on a held message a coordinator rejected."""
    return (
        f"Not delivered: a coordinator did not release this message, which seemed to contain {describe(kinds)}. "
        "Your partner has not seen it."
    )
