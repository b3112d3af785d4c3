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

# IET-style membership numbers: digits only, 6 to 10 of them. Chosen because
# the scheme documents give no format; staff can widen it here.
MEMBERSHIP_NUMBER_RE = re.compile(r"^[0-9]{6,10}$")


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
                fields=["membership_number"], condition=~models.Q(membership_number=""), name="unique_membership_number"
            )
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def age(self, today: datetime.date | None = None) -> int | None:
        if self.date_of_birth is None:
            return None
        return age_on(self.date_of_birth, today or timezone.localdate())

    def in_group(self, name: str) -> bool:
        # Cached per instance: the admin asks this many times per page.
        if not hasattr(self, "_group_names"):
            self._group_names = set(self.groups.values_list("name", flat=True))
        return name in self._group_names
