"""What each kind of notification says, and whether it is also emailed.

One table, so a later feature adds a kind here and calls `notify`.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    code: str
    title: str  # str.format()ed with the subject as {obj}
    important: bool  # important kinds are emailed too, after commit


KINDS = {
    k.code: k
    for k in [
        Kind("welcome", "Welcome to {obj}", False),
        Kind("terms_published", "New version: {obj}. Please read and accept it", True),
        Kind("training_recorded", "Your coordinator recorded: {obj}", False),
        Kind("membership_checked", "Your membership has been checked", False),
        Kind("dbs_updated", "Your DBS check was updated", True),
        Kind("eligible", "You can now take part in {obj.scheme} as a {obj.role}", True),
        Kind("pairing_started", "You are paired: {obj}", True),
        Kind("request_received", "{obj.mentee.first_name} asks you to be their mentor", True),
        Kind("request_accepted", "{obj.mentor.first_name} accepted your request", True),
        Kind("request_declined", "{obj.mentor.first_name} declined your request", True),
        Kind("request_withdrawn", "{obj.mentee.first_name} withdrew their request", False),
        Kind("request_expired", "A request expired without an answer", True),
        Kind("request_referred", "A mentor referred a mentee back to you", True),
        Kind("conflict_blocked", "An unmanageable conflict of interest blocked a pairing", True),
        Kind("profile_submitted", "A mentor profile is waiting for approval", False),
        Kind("profile_reviewed", "Your mentor profile was reviewed", True),
        Kind("profile_reported", "A mentor profile was reported", True),
        Kind("rematch_requested", "A mentee asks for another mentor", True),
        # Ending, withdrawal and feedback (issue 7, items 5, 6 and 8).
        Kind("pairing_ended", "Your pairing has ended: {obj}", True),
        Kind("pairing_ended_by_coordinator", "A pairing in your network was ended: {obj}", True),
        Kind(
            "request_withdrawn_mentor_left",
            "{obj.mentor.first_name} has left the scheme: your request is withdrawn",
            True,
        ),
        Kind("membership_withdrawn", "You have been withdrawn from {obj.scheme}", True),
        Kind("feedback_asked", "How is your mentoring going? A short survey", True),
        Kind("feedback_reminder", "A reminder: your feedback on your mentoring", True),
        Kind("feedback_low", "A low feedback rating in your network", True),
        # Issue 7, agreement part.
        Kind("agreement_drafted", "A new draft of your mentoring agreement", True),
        Kind("agreement_confirmed", "Your partner confirmed your mentoring agreement", False),
        Kind("agreement_agreed", "Your mentoring agreement is agreed", True),
        Kind("agreement_reminder", "Your mentoring agreement is not agreed yet", True),
        # Issue 7, meetings part: the subject is the Meeting (inactivity: the Pairing).
        Kind("meeting_proposed", "{obj.proposed_by.first_name} proposes a meeting", True),
        Kind("meeting_accepted", "Your meeting is agreed", True),
        Kind("meeting_declined", "A proposed meeting was declined", True),
        Kind("meeting_rescheduled", "{obj.proposed_by.first_name} proposes another time", True),
        Kind("meeting_cancelled", "A meeting was cancelled", True),
        Kind("meeting_marked", "A meeting was marked {obj.status}", False),
        Kind("meeting_reminder", "Reminder: your mentoring meeting is coming up", True),
        Kind("pairing_inactive", "It has been a while since your last meeting", True),
        Kind("pairing_inactive_coordinator", "A pairing in your network has gone quiet", True),
        # Scheme closure and complaints (issue 7).
        Kind("scheme_closing", "{obj} closes on {obj.closes_on:%-d %B %Y}", True),
        Kind("pairing_ended_scheme_closed", "Your pairing has ended: the scheme closed", True),
        Kind("complaint_received", "We received your complaint", True),
        Kind("complaint_made", "A member made a complaint", True),
        Kind("complaint_status", "Your complaint is now: {obj.status_label}", True),
        # Issue 8: the subject is the Message; the title never quotes it, and it is not emailed.
        Kind("message_received", "New message from {obj.sender.first_name}", False),
        # Issue 8, contact details (R-MSG-7): the subject is the HeldMessage; no title names anyone or quotes it.
        Kind("message_held", "A message is held for your decision", True),
        Kind("message_released", "Your held message was delivered", False),
        Kind("message_rejected", "Your held message was not delivered", True),
        # Issue 8, reporting (R-MSG-6): the subject is the Concern. The Lead's title marks an urgent one; neither
        # title names anyone. The reporter's receipt stays on the platform (an email could be read by the person
        # the concern is about).
        Kind("concern_raised", "{obj.urgency}A safeguarding concern was raised", True),
        Kind("concern_received", "We have passed your concern to the Safeguarding Lead", False),
        # Issue 9: DBS checks (the subject is the DBSCheck: titles name nothing of it), training, the daily sweep.
        Kind("dbs_requested", "Scheme staff ask you for a DBS check", True),
        Kind("dbs_reminder", "Reminder: your DBS check is waiting for you", True),
        Kind("dbs_expiring", "Your DBS check expires soon", True),
        Kind("dbs_outstanding_staff", "A DBS check requested three weeks ago is outstanding", True),
        Kind("dbs_refused", "A mentor is flagged for removal", True),
        Kind("training_expiring", "Your {obj.kind_label} expires soon", True),
        Kind("eligibility_lapsed", "You cannot take part in {obj.scheme} for now", True),
        Kind("eligibility_lapsed_coordinator", "A member of your network can no longer take part", True),
        # Issue 9, suspension by the Safeguarding Lead (R-SAFE-2): neutral words, to the member (no subject) and
        # to each partner (the subject is the Pairing); nobody is told why.
        Kind("participation_suspended", "Your participation in the mentoring scheme is paused for now", True),
        Kind("participation_resumed", "You can take part in the mentoring scheme again", True),
        Kind("pairing_paused", "Your mentoring is paused for now", True),
        Kind("pairing_resumed", "Your mentoring can carry on", True),
        # Issue 11, pairings a coordinator proposes (R-MATCH-3, R-MATCH-5): the subject is the PairingProposal.
        Kind("pairing_proposed", "Your coordinator proposes a mentoring pairing: please confirm", True),
        Kind("proposal_declined", "A proposed mentoring pairing will not go ahead", True),
        Kind("proposal_lapsed", "A proposed mentoring pairing could not start", True),
        Kind("proposal_withdrawn", "A proposed mentoring pairing was withdrawn", True),
        Kind("proposal_started_coordinator", "A pairing you proposed has started", False),
        Kind("proposal_declined_coordinator", "A pairing you proposed was declined", True),
        Kind("proposal_lapsed_coordinator", "A pairing you proposed could not start", True),
        # Issue 11, item 4 (R-COORD-4): a coordinator or staff write to selected members; the text is the body.
        Kind("scheme_message", "A message from your mentoring scheme", True),
    ]
}
