from django.http import HttpResponseBadRequest
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


class NullCharactersRefusedMiddleware:
    """A query string holding a NUL character is answered 400 before any view reads it.

    Forms refuse NUL in text (Django's ProhibitNullCharactersValidator), but list filters and searches read the
    query string straight into a query, and PostgreSQL cannot hold NUL in text: the admin's `?status=%00`
    was a 500 there. One check here covers every page, present and future.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if any("\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()):
            return HttpResponseBadRequest(
                "The address holds a null character, which no page accepts. Remove it and try again.",
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)
