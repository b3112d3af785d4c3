from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from accounts.forms import MemberDetailsForm
from accounts.services import member_details_update


@login_required
def account_details(request):
    form = MemberDetailsForm(request.POST if request.method == "POST" else None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        member_details_update(user=request.user, details=dict(form.cleaned_data))
        messages.success(request, "Your details are saved.")
        return redirect("account_details")
    return render(request, "accounts/details_form.html", {"form": form, "title": "Your details"})
