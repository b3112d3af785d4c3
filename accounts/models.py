"""The member: one custom User, email as login, with the details the scheme needs."""

import datetime
import re
import zoneinfo
from functools import cache

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django_countries.fields import CountryField

from accounts.validators import validate_single_line

# The membership system's numbers (the IET's) are whole numbers of 6 to 10
# digits, such as 12345678. Cards and exports may pad them with leading zeros
# ("0012345678"); those zeros are not part of the number, so we accept them and
# store the number without them: "0012345678" and "12345678" are one member.
# Chosen because the scheme documents give no format; staff can widen it here.
MEMBERSHIP_NUMBER_RE = re.compile(r"^0*([1-9][0-9]{5,9})$")


def normalise_membership_number(value: str) -> str:
    """The number as we store it: no surrounding spaces, no leading zeros. A malformed value is left for the
    validator to refuse."""
    value = (value or "").strip()
    match = MEMBERSHIP_NUMBER_RE.match(value)
    return match.group(1) if match else value


MEMBERSHIP_NUMBER_TAKEN = (
    "This membership number is already registered. If it is yours, sign in or reset your password."
)


def validate_membership_number(value: str) -> None:
    if not MEMBERSHIP_NUMBER_RE.match(value or ""):
        raise ValidationError(
            "Enter your membership number as it appears on your membership card: 6 to 10 digits, no letters or spaces.",
            code="invalid_membership_number",
        )


@cache
def time_zone_names() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones() - {"localtime", "Factory"}))


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise ValidationError(
            "“%(value)s” is not a time zone we know. Choose one from the list, for example Europe/London.",
            params={"value": value},
            code="invalid_time_zone",
        )


def local_today(time_zone_name: str, *, at: datetime.datetime | None = None) -> datetime.date:
    """The date it is now (or at the moment `at`) in the named zone.

    The eligibility engine judges every rule on the member's own date, and sign-up
    judges the age the same way. A name we do not know reads as the site's zone.
    """
    known = time_zone_name in time_zone_names()
    zone = zoneinfo.ZoneInfo(time_zone_name) if known else timezone.get_default_timezone()
    return timezone.localdate(at, timezone=zone)


# Members take part from their 18th birthday (R-ELIG-1).
ADULT_AGE = 18


def age_on(date_of_birth: datetime.date, day: datetime.date) -> int:
    """Whole years between date_of_birth and day.

    A 29 February birthday counts as reached on 1 March in a non-leap year
    (R-ELIG-1): (month, day) comparison does exactly that.
    """
    years = day.year - date_of_birth.year
    if (day.month, day.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years


class Language(models.Model):
    code = models.CharField(max_length=10, unique=True)
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class MembershipStatus(models.TextChoices):
    UNVERIFIED = "unverified", "Not yet checked"
    ACTIVE = "active", "Active"
    LAPSED = "lapsed", "Lapsed"


class User(AbstractUser):
    """A member of the professional body, or a member of staff."""

    username = None
    email = models.EmailField("email address", unique=True)
    first_name = models.CharField("first name", max_length=150, validators=[validate_single_line])
    last_name = models.CharField("surname", max_length=150, validators=[validate_single_line])
    date_of_birth = models.DateField(null=True, blank=True)
    membership_number = models.CharField(max_length=10, blank=True, validators=[validate_membership_number])
    membership_grade = models.CharField(
        max_length=40, blank=True, help_text="For example Member, Associate, Fellow.", validators=[validate_single_line]
    )
    membership_status = models.CharField(
        max_length=12, choices=MembershipStatus.choices, default=MembershipStatus.UNVERIFIED
    )
    membership_expires_on = models.DateField(null=True, blank=True)
    country = CountryField(blank=True)
    time_zone = models.CharField(max_length=64, default="Europe/London", validators=[validate_time_zone])
    languages = models.ManyToManyField(Language, blank=True, related_name="speakers")

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["first_name", "last_name"]

    objects = UserManager()

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["membership_number"],
                condition=~models.Q(membership_number=""),
                name="unique_membership_number",
                violation_error_code="unique",
                violation_error_message=MEMBERSHIP_NUMBER_TAKEN,
            )
        ]
        # The members of one country from the index alone: the dashboards' country filter joins every figure
        # to them (on 20,000 members, a tenth off the filtered page).
        indexes = [models.Index(fields=["country", "id"], name="user_country")]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def clean(self):
        super().clean()
        self.membership_number = normalise_membership_number(self.membership_number)

    def age(self, today: datetime.date | None = None) -> int | None:
        """Whole years on `today`, by default the member's own date."""
        if self.date_of_birth is None:
            return None
        return age_on(self.date_of_birth, today or local_today(self.time_zone))

    def in_group(self, name: str) -> bool:
        # Cached per instance: the admin asks this many times per page.
        if not hasattr(self, "_group_names"):
            self._group_names = set(self.groups.values_list("name", flat=True))
        return name in self._group_names
