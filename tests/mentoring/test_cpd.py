"""A mentor's CPD log: their own entries and the training the platform holds for them (004 B11, issue 7 item 4)."""

import csv
import datetime
import io

from django.urls import reverse
from django.utils import timezone

from mentoring.models import CPDEntry
from safeguarding.models import TrainingRecord
from tests import factories


def test_a_mentor_adds_an_entry_and_sees_it_beside_their_training(client, mentor):
    client.force_login(mentor)
    day = (timezone.localdate() - datetime.timedelta(days=3)).isoformat()
    data = {"date": day, "activity": "Coaching workshop", "hours": "2.5", "reflection": "Open questions."}
    assert client.post(reverse("cpd_log"), data).status_code == 302
    html = client.get(reverse("cpd_log")).content.decode()
    assert "Coaching workshop" in html and "Open questions." in html
    training = TrainingRecord.objects.filter(user=mentor).first()
    assert training.get_kind_display() in html and "(training record)" in html


def test_the_log_lists_entries_and_training_together_by_date(client, mentor):
    today = timezone.localdate()
    TrainingRecord.objects.filter(user=mentor).update(completed_on=today - datetime.timedelta(days=10))
    CPDEntry.objects.create(member=mentor, date=today - datetime.timedelta(days=20), activity="Oldest", hours=1)
    CPDEntry.objects.create(member=mentor, date=today - datetime.timedelta(days=1), activity="Newest", hours=1)
    client.force_login(mentor)
    html = client.get(reverse("cpd_log")).content.decode()
    training = TrainingRecord.objects.filter(user=mentor).first().get_kind_display()
    assert html.index("Newest") < html.index(training) < html.index("Oldest")


def test_another_members_entries_are_not_shown(client, mentor):
    other = factories.UserFactory()
    CPDEntry.objects.create(member=other, date=timezone.localdate(), activity="Someone else's course", hours=1)
    client.force_login(mentor)
    assert "Someone else" not in client.get(reverse("cpd_log")).content.decode()
    assert "Someone else" not in client.get(reverse("cpd_download")).content.decode()


def test_bad_hours_or_a_future_date_are_refused(client, mentor):
    client.force_login(mentor)
    today = timezone.localdate()
    response = client.post(reverse("cpd_log"), {"date": today.isoformat(), "activity": "x", "hours": "0"})
    assert response.status_code == 400
    tomorrow = (today + datetime.timedelta(days=1)).isoformat()
    response = client.post(reverse("cpd_log"), {"date": tomorrow, "activity": "x", "hours": "1"})
    assert response.status_code == 400 and "cannot be in the future" in response.content.decode()
    assert not CPDEntry.objects.exists()


def test_a_member_who_is_no_mentor_cannot_add_to_a_cpd_log(client, mentee):
    client.force_login(mentee)
    assert "The CPD log is for mentors." in client.get(reverse("cpd_log")).content.decode()
    day = timezone.localdate().isoformat()
    response = client.post(reverse("cpd_log"), {"date": day, "activity": "x", "hours": "1"})
    assert response.status_code == 403 and not CPDEntry.objects.exists()


def test_the_csv_download_holds_the_log_with_formulas_defused(client, mentor):
    CPDEntry.objects.create(member=mentor, date=timezone.localdate(), activity="=HYPERLINK(1)", hours=2)
    client.force_login(mentor)
    response = client.get(reverse("cpd_download"))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == "Date"
    assert [rows[1][1], rows[1][2], rows[1][4]] == ["'=HYPERLINK(1)", "2.0", "you"]
    assert any(row[4] == "the platform" for row in rows[1:])
