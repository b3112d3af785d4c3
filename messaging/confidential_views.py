"""Reporting a message (R-MSG-6) and audited confidential access to a conversation (R-MSG-5).

Views, the top layer: they call safeguarding's services (messaging's own modules below them never do).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render

from accounts.two_factor import needs_two_factor, two_factor_setup
from messaging import selectors
from safeguarding import complaints, concerns, confidential
from safeguarding.forms import ConversationAccessForm, MessageReportForm

CONFIDENTIAL_WHAT = "read a conversation"


@login_required
def message_report(request, pk: int, message_pk: int):
    """Report the partner's message as a complaint or a safeguarding concern. Only the pair's two members, and
    only a message from the other one: anything else is 404."""
    message = selectors.reportable_message(request.user, conversation_id=pk, message_id=message_pk)
    form = MessageReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["kind"] == "complaint":
                complaint = complaints.complaint_make(
                    complainant=request.user,
                    about="person",
                    text=data["what_happened"],
                    message=message,
                )
            else:
                concerns.concern_raise(
                    reporter=request.user,
                    what_happened=data["what_happened"],
                    immediate_risk=data["immediate_risk"] == "yes",
                    happened_on=data["happened_on"],
                    message=message,
                )
        except ValidationError as refused:
            form.add_error(None, refused)
        else:
            if data["kind"] == "complaint":
                messages.success(request, "Thank you. We have received your complaint.")
                return redirect(complaint)
            messages.success(
                request,
                "Thank you. We have passed this to the Safeguarding Lead, who may contact you in confidence. "
                "If someone is in immediate danger, call 999.",
            )
            return redirect(message.conversation)
    context = {
        "title": "Report a message",
        "form": form,
        "reported": message,
        "conversation": message.conversation,
    }
    return render(request, "messaging/message_report.html", context, status=400 if form.is_bound else 200)


@login_required
def conversation_access(request, pk: int):
    """Staff or the Safeguarding Lead ask to read a conversation: they name the complaint or concern and a reason.
    Coordinators and members get 404."""
    conversation = confidential.access_conversation_for_reader(request.user, pk)
    if needs_two_factor(request.user):
        return two_factor_setup(request, CONFIDENTIAL_WHAT)
    purposes = confidential.access_purposes(request.user, conversation)
    initial = {}
    for kind in ("complaint", "concern"):
        chosen = f"{kind}-{request.GET.get(kind, '')}"
        if any(p.key == chosen for p in purposes):
            initial["purpose"] = chosen
    form = ConversationAccessForm(request.POST or None, purposes=purposes, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            grant = confidential.conversation_access_grant(
                reader=request.user,
                conversation_id=conversation.pk,
                purpose=form.cleaned_data["purpose"],
                reason=form.cleaned_data["reason"],
                hours=form.cleaned_data["hours"],
            )
        except ValidationError as refused:
            form.add_error(None, refused)
        else:
            return redirect(grant)
    context = {
        "title": "Read a conversation",
        "form": form,
        "conversation": conversation,
        "purposes": purposes,
        "current_grants": confidential.current_grants(request.user, conversation),
        "expired": request.GET.get("expired") == "1",
    }
    return render(request, "messaging/conversation_access.html", context, status=400 if form.is_bound else 200)


@login_required
def conversation_read(request, pk: int):
    """The conversation, read-only, under the reader's own current grant `pk`; each view is logged first.
    An expired grant is 404 with a way to ask for a new one; anyone else's grant is plain 404."""
    if confidential.may_read_confidential(request.user) and needs_two_factor(request.user):
        return two_factor_setup(request, CONFIDENTIAL_WHAT)
    try:
        grant = confidential.conversation_read(reader=request.user, grant_id=pk)
    except confidential.GrantExpired as expired:
        context = {"title": "Your access has ended", "grant": expired.grant}
        return render(request, "messaging/conversation_access_expired.html", context, status=404)
    conversation = grant.conversation
    try:
        before = int(request.GET["before"])
    except (KeyError, ValueError):
        before = None
    context = {
        "title": f"Conversation of {conversation.first_member.get_full_name()} and "
        f"{conversation.second_member.get_full_name()}",
        "grant": grant,
        "conversation": conversation,
        "page": selectors.history_page(conversation, before_id=before),
        "paging_back": before is not None,
    }
    return render(request, "messaging/conversation_read.html", context)


@login_required
def conversation_access_log(request):
    """Your data: who read your conversations under a grant, when, and why."""
    page = Paginator(selectors.conversation_reads_for_member(request.user), 50).get_page(request.GET.get("page"))
    for read in page:
        read.partner = read.conversation.partner_of(request.user)
    return render(
        request,
        "messaging/conversation_access_log.html",
        {"title": "Who has read your conversations", "page": page},
    )
