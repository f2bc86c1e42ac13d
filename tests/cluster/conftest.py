"""The cluster's services: PostgreSQL (as every store test), and the brokers Redis and RabbitMQ on 127.0.0.1.

A test skips, saying which service and where, only when that service cannot be reached; ``.ci/run``
installs and starts both and exports ``YUQING_TEST_REDIS_URL`` and ``YUQING_TEST_AMQP_URL``.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cluster_processes import sender
from support.stores import emptied_postgres

REDIS_ENV, AMQP_ENV = "YUQING_TEST_REDIS_URL", "YUQING_TEST_AMQP_URL"
DEFAULTS = {"redis": (REDIS_ENV, "redis://127.0.0.1:6379/15"), "amqp": (AMQP_ENV, "amqp://guest:guest@127.0.0.1:5672//")}


def _reachable(url: str) -> str | None:
    """None when the broker at *url* answers, else why not."""
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:
        return f"{exc.__class__.__name__}: {exc}"
    return None


def _emptied(url: str) -> None:
    """Drop our three queues with what an earlier run left on them (messages, and on RabbitMQ bindings),
    then declare them as the scheduler does."""
    if url.startswith("redis"):  # with the unacknowledged messages Redis would hand out again later
        import redis

        redis.Redis.from_url(url).flushdb()
    app = sender(url)
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        for queue in app.amqp.queues.values():
            queue.bind(channel).delete()
            queue.bind(channel).declare()
    app.close()


@pytest.fixture
def brokers_to_ourselves() -> Iterator[None]:
    """One broker test at a time on this machine: the queues (poll, pipeline, respond) and the Redis database
    are shared, by make test's parallel processes (-n auto) and by anyone else's test run here."""
    with open(Path(tempfile.gettempdir()) / "yuqing-test-brokers.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(params=["redis", "amqp"])
def broker_url(request: pytest.FixtureRequest, brokers_to_ourselves: None) -> str:
    if request.node.get_closest_marker("cluster") is None:  # else make test would run it, holding the brokers
        pytest.fail("a test on the brokers is marked cluster: make test-cluster runs it, make test does not")
    env, default = DEFAULTS[request.param]
    url = os.environ.get(env) or default
    why = _reachable(url)
    if why is not None:
        pytest.skip(f"{request.param} broker not reachable at {url} ({why}); .ci/run starts it and sets {env}")
    _emptied(url)
    return url


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty PostgreSQL store (the cluster refuses SQLite)."""
    url: str = emptied_postgres(request.getfixturevalue("_postgres_database"))
    yield url
