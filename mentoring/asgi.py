"""ASGI entry point: HTTP through Django, websockets through Channels.

Django runs each request's synchronous view in a thread of its own, and each such thread holds a
database connection while it runs (persistent connections are off, as Django advises under ASGI). A
burst of requests would open as many connections as requests in flight; `Bounded` lets at most
WEB_DATABASE_THREADS requests into Django at once per process, and the rest wait their turn in the
event loop, holding no connection. With the websockets' SOCKET_DATABASE_THREADS, a server process
holds at most the sum of the two (tests/mentoring/test_connection_bound.py).
"""

import asyncio
import gc
import os
import warnings

from django.core.asgi import get_asgi_application

# WhiteNoise hands static files to Django as synchronous iterators; under ASGI
# Django reads them in a thread, which is fine for our small files.
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous iterators")

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mentoring.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from messaging.routing import websocket_urlpatterns  # noqa: E402


class Bounded:
    """At most `limit` HTTP requests inside `app` at once; the others wait, first come first served."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit
        self._slots: asyncio.Semaphore | None = None  # made in the server's event loop, on first use

    async def __call__(self, scope, receive, send):
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        async with self._slots:
            await self.app(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": Bounded(django_asgi_app, settings.WEB_DATABASE_THREADS),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# What the imports made lives as long as the process: frozen, it is out of the cyclic collector's sight, and a
# full collection scans only what came after. Under bench/messaging.py's load a server process made a full
# collection every ten seconds or so, over some 190,000 objects, which took 130 to 230 ms by the clock on the
# busy 2-core machine (no socket of the process is answered meanwhile); frozen, some 45,000.
gc.freeze()
