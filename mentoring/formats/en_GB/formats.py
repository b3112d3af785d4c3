"""Date and time formats for en-gb with 24-hour times, as the member site's templates show them (issue 11, item 4).

Django's own en_GB formats write times as "4:30 p.m."; the admin formats every date and time through these.
Input formats are Django's own for en_GB, so "31/03/2027 14:30" and "2027-03-31 14:30" are both understood.
"""

DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
