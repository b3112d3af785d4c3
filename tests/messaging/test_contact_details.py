"""The contact-details detector (R-MSG-7): sentences that must be held, and sentences that must not.

Pure functions, no database. A change to messaging/contact_details.py comes with a sentence here.
"""

import pytest

from messaging.contact_details import EMAIL, HANDLE, PHONE, URL, describe, find_contact_details, held_notice

MUST_HOLD = [
    # Email addresses, plain and spelled out.
    ("Write to me at jo.bloggs@example.org", EMAIL),
    ("My email: JO_BLOGGS+mentoring@mail.example.co.uk.", EMAIL),
    ("jo.bloggs at example dot com", EMAIL),
    ("jo (at) example (dot) org", EMAIL),
    ("jo [at] example [dot] co [dot] uk", EMAIL),
    ("reach me: jo@example.io", EMAIL),
    # UK phone numbers.
    ("My mobile is 07700 900123", PHONE),
    ("Call 07700900123 after six", PHONE),
    ("ring me on 07700-900-123", PHONE),
    ("Office: 020 7946 0958", PHONE),
    ("Office: (020) 7946 0958", PHONE),
    ("Manchester office 0161 496 0000", PHONE),
    ("0113 496 0000 is the switchboard", PHONE),
    ("Freephone 0800 123 4567", PHONE),
    ("+44 7700 900123", PHONE),
    ("+44 (0)7700 900123", PHONE),
    ("+447700900123", PHONE),
    ("0044 7700 900123", PHONE),
    ("Try 07700 900123 2 times if I do not answer", PHONE),
    # International numbers.
    ("In Paris: +33 1 23 45 67 89", PHONE),
    ("+1 (415) 555-0132", PHONE),
    ("+91 98765 43210", PHONE),
    ("+49 30 1234567", PHONE),
    ("415-555-0132", PHONE),
    ("(415) 555-0132", PHONE),
    ("415.555.0132", PHONE),
    # A shorter number after words that say it is a phone number.
    ("call me on 4960 0000", PHONE),
    ("Text me: 7946 0958", PHONE),
    ("my phone number is 796 001 234", PHONE),
    # Messaging and video handles, links, meeting ids.
    ("Join https://teams.microsoft.com/l/meetup-join/19%3ameeting", HANDLE),
    ("zoom.us/j/81234567890", HANDLE),
    ("https://us02web.zoom.us/j/81234567890?pwd=abc", HANDLE),
    ("wa.me/447700900123", HANDLE),
    ("t.me/jobloggs", HANDLE),
    ("https://signal.me/#p/+447700900123", HANDLE),
    ("discord.gg/abcdef", HANDLE),
    ("join.skype.com/AbCdEf", HANDLE),
    ("meet.google.com/abc-defg-hij", HANDLE),
    ("my Skype is jo.bloggs", HANDLE),
    ("My skype name is jobloggs", HANDLE),
    ("Skype: jo.bloggs", HANDLE),
    ("Telegram username is jobloggs", HANDLE),
    ("Signal username jo.99", HANDLE),
    ("Discord: jobloggs#1234", HANDLE),
    ("I'm on Discord as jobloggs#1234", HANDLE),
    ("Add me on WhatsApp", HANDLE),
    ("find me on LinkedIn", HANDLE),
    ("message me via Telegram", HANDLE),
    ("call me on Teams instead", HANDLE),
    ("DM me @jo_bloggs", HANDLE),
    ("I'm @jobloggs on most things", HANDLE),
    ("Meeting ID: 812 3456 7890", HANDLE),
    ("zoom id 81234567890", HANDLE),
    ("Passcode: 4kT9xQ", HANDLE),
    ("passcode 482913", HANDLE),
    # Web addresses.
    ("See https://example.org/page", URL),
    ("http://localhost:8000/x", URL),
    ("www.example.com", URL),
    ("My portfolio is at example.com", URL),
    ("jobloggs.dev has my CV", URL),
    ("Look at mysite.co.uk/about.", URL),
    ("bit.ly/3abcd", URL),
]

MUST_NOT_HOLD = [
    "Hello Amara, how was your week?",
    "Let's meet on Thursday at 10:30.",
    "Shall we use the platform's video call next week?",
    "Our teams are spread across three sites.",
    "The signal was noisy at 50 Hz.",
    "Zoom in on the second chart.",
    "WhatsApp is great for quick chats, but let's keep to this page.",
    "LinkedIn: update your profile before the interview.",
    "My LinkedIn profile is out of date.",
    # Dates, years, times.
    "The deadline is 12/03/2026.",
    "It started on 2024-03-12 and ended 2025-01-31.",
    "12.03.2024 was the kick-off.",
    "01-02-2024 10:30 in the main hall",
    "I worked there from 1990 to 2005, then 2005-2019.",
    "Between 2019 2020 and 2021 the plant doubled.",
    "We meet 09:00-17:00 on weekdays.",
    # Version numbers, standards, part numbers.
    "Upgrade to Python 3.12.1 first, then v2.3.10.",
    "The router at 192.168.0.1 was fine.",
    "BS 7671:2018 and IEC 61508 apply.",
    "Use EN 60204-1 for machinery.",
    "ISBN 978-0-13-468599-1 is the book.",
    # Amounts and quantities.
    "The budget is £12,000 and the grant $1,250.50.",
    "Salaries of £35,000 to £45,000.",
    "1,000,000 users and 2 000 000 requests a day",
    "0.25 mm tolerance, 3.5 GHz, 0.5%",
    "A price of 1499.99 each",
    "Steps 0 1 2 3 4 5 6 7 8 9 in order",
    "Grades 03 04 05 06 07",
    # Not addresses.
    "e.g. this, i.e. that",
    "It runs on ASP.NET and Node.js with socket.io",
    "Open setup.py and readme.md",
    "Mr. Smith and Dr. Jones",
    "I'll be at home. Co-workers said so.",
    "Send the report.pdf please",
    "the dot com boom of 2000",
    "see issue#1234 on the tracker",
    "Ask @ the desk at 5pm, or @10am",
    "Thanks @all and @everyone",
    "Reset the passcode on the door",
    "He asked me to change the meeting room",
    "Email me here on the platform when you are ready.",
]


@pytest.mark.parametrize(("text", "kind"), MUST_HOLD)
def test_a_message_with_contact_details_is_recognised(text, kind):
    # R-MSG-7: email addresses, phone numbers, messaging or video handles and web addresses
    assert kind in find_contact_details(text), text


@pytest.mark.parametrize("text", MUST_NOT_HOLD)
def test_ordinary_sentences_are_not_taken_for_contact_details(text):
    # R-MSG-7: dates, years, version numbers, amounts and everyday words are not held
    assert find_contact_details(text) == [], text


def test_each_kind_is_named_once_in_a_fixed_order():
    text = "jo@example.org, 07700 900123, skype: jo.bloggs and https://example.org"
    assert find_contact_details(text) == [EMAIL, PHONE, HANDLE, URL]
    # An email address is not also a handle ("@example") or a web address ("example.org").
    assert find_contact_details("jo@example.org") == [EMAIL]


def test_the_notice_says_why_in_words():
    assert describe([PHONE, EMAIL]) == "an email address and a phone number"
    assert describe([URL, HANDLE, EMAIL]) == "an email address, a messaging or video handle and a web address"
    notice = held_notice([EMAIL])
    assert "seems to contain an email address" in notice and "coordinator" in notice


def test_empty_and_odd_text_is_safe():
    assert find_contact_details("") == []
    assert find_contact_details(None) == []
    assert find_contact_details("   \n\t") == []
    assert find_contact_details("((((((((((((((((((((((1") == []
