"""Loopback HTTP servers served from a daemon thread, stopped at once.

``serve_forever`` looks for a ``shutdown()`` only every ``poll_interval`` (half a second by default), so
each test's fake server cost its teardown up to that long; a short interval stops it within milliseconds.
"""

from __future__ import annotations

import threading
from socketserver import BaseServer

SHUTDOWN_POLL = 0.02  # seconds between serve_forever's looks for shutdown()


def serving_thread(server: BaseServer) -> threading.Thread:
    """A daemon thread (not started) that serves *server* until its ``shutdown()``."""
    return threading.Thread(target=server.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL}, daemon=True)


def serve_in_thread(server: BaseServer) -> threading.Thread:
    """Serve *server* from a started daemon thread until its ``shutdown()``."""
    thread = serving_thread(server)
    thread.start()
    return thread
