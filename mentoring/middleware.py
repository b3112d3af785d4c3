from django.utils.cache import patch_cache_control


class SignedInPagesNotStoredMiddleware:
    """A signed-in member's pages carry `Cache-Control: private, no-store`.

    They hold personal and safeguarding details: neither a shared proxy nor the browser
    (the back button on a shared computer after signing out) may keep a copy. Pages for
    someone signed out are left as they are.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response
