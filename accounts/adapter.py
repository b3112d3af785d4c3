from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """Registration stays open; joining a scheme is checked separately by the eligibility engine."""

    def is_open_for_signup(self, request):
        return True
