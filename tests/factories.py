import datetime

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import Language, MembershipStatus, User
from matching import listing
from mentoring.models import DocumentKind, LocalNetwork, Role, Scheme, SchemeMembership, TermsAcceptance, TermsVersion
from safeguarding.models import DBSCheck, TrainingCourse, TrainingEvent, TrainingKind, TrainingRecord

PASSWORD = "a-long-test-password-42"


class SchemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Scheme
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Scheme {n}")
    slug = factory.Sequence(lambda n: f"scheme-{n}")


class LocalNetworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LocalNetwork

    name = factory.Sequence(lambda n: f"Network {n}")
    slug = factory.Sequence(lambda n: f"network-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    """A member whose membership has been checked and is current."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"member{n}@example.org")
    first_name = factory.Faker("first_name")
    # Unmistakable, so "the surname is not on the page" cannot be fooled by "Scottish Gaelic".
    last_name = factory.Sequence(lambda n: f"Surname-{n}-Z")
    date_of_birth = datetime.date(1990, 6, 15)
    membership_number = factory.Sequence(lambda n: f"{20000000 + n}")
    membership_grade = "Member"
    membership_status = MembershipStatus.ACTIVE
    membership_expires_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=365))
    country = "GB"
    time_zone = "Europe/London"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified_email(self, create, extracted, **kwargs):
        if create:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)
            self.save()

    @factory.post_generation
    def languages(self, create, extracted, **kwargs):
        if create:
            self.languages.set(extracted or Language.objects.filter(code="en"))


class TermsVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TermsVersion

    kind = DocumentKind.TERMS
    version = factory.Sequence(lambda n: f"2026.{n}")
    title = factory.LazyAttribute(lambda o: DocumentKind(o.kind).label)
    body = "The text of the document."
    published_at = factory.LazyFunction(timezone.now)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SchemeMembership

    user = factory.SubFactory(UserFactory)
    scheme = factory.SubFactory(SchemeFactory)
    role = Role.MENTEE
    network = factory.SubFactory(LocalNetworkFactory)
    status = SchemeMembership.Status.ACTIVE


class TrainingRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingRecord

    user = factory.SubFactory(UserFactory)
    kind = TrainingKind.SAFEGUARDING_ELEARNING
    completed_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=10))
    expires_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=700))


class DBSCheckFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DBSCheck

    user = factory.SubFactory(UserFactory)
    level_reason = "Mentoring adults is not regulated activity: basic check."
    status = DBSCheck.Status.CLEARED
    cleared_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=30))


class TrainingCourseFactory(factory.django.DjangoModelFactory):
    """A course of the catalogue; the migration's courses are found by name, so tests share them."""

    class Meta:
        model = TrainingCourse
        django_get_or_create = ("name",)

    name = "Mentor training: Local Network workshop"
    kind = TrainingKind.MENTOR_TRAINING
    delivery = TrainingCourse.Delivery.WORKSHOP
    validity_years = None


class TrainingEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingEvent

    course = factory.SubFactory(TrainingCourseFactory)
    network = factory.SubFactory(LocalNetworkFactory)
    starts_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=14))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(hours=3))
    place = "IET London: Savoy Place"
    capacity = 12


def accept_current_documents(user) -> None:
    with listing.batched():
        for version in TermsVersion.objects.current():
            if version.kind != DocumentKind.COMPLAINTS_PROCEDURE:
                TermsAcceptance.objects.get_or_create(user=user, version=version)


def train(user) -> None:
    with listing.batched():
        for kind in TrainingKind:
            TrainingRecordFactory(user=user, kind=kind)


class SectorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "matching.Sector"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Sector {n}")


class ExpertiseAreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "matching.ExpertiseArea"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Area {n}")


class MentorProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "matching.MentorProfile"
        skip_postgeneration_save = True

    @classmethod
    def _generate(cls, strategy, params):
        with listing.batched():  # the profile, its areas and languages: one listing refresh
            return super()._generate(strategy, params)

    user = factory.SubFactory(UserFactory)
    role_title = "Principal engineer"
    work_history = "Twenty years in power systems."
    sector = factory.SubFactory(SectorFactory)
    country = "GB"
    capacity = 2
    status = "approved"

    @factory.post_generation
    def expertise(self, create, extracted, **kwargs):
        if create and extracted:
            self.expertise.set(extracted)

    @factory.post_generation
    def languages(self, create, extracted, **kwargs):
        if create:
            self.languages.set(extracted or Language.objects.filter(code="en"))


class MenteeProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "matching.MenteeProfile"
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    goals = "Prepare for chartership within a year."

    @factory.post_generation
    def expertise(self, create, extracted, **kwargs):
        if create and extracted:
            self.expertise.set(extracted)


def listed_mentor(scheme, network, **profile_fields):
    """An eligible, trained mentor with an approved profile, listed in `scheme`."""
    with listing.batched():
        user = UserFactory()
        accept_current_documents(user)
        train(user)
        MembershipFactory(user=user, scheme=scheme, network=network, role=Role.MENTOR)
        MentorProfileFactory(user=user, **profile_fields)
    return user


def eligible_mentee(scheme, network, *, goals=True, **user_fields):
    user = UserFactory(**user_fields)
    accept_current_documents(user)
    MembershipFactory(user=user, scheme=scheme, network=network, role=Role.MENTEE)
    if goals:
        MenteeProfileFactory(user=user)
    return user


class MentorshipRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "matching.MentorshipRequest"

    message = "Would you mentor me towards chartership?"
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=14))
