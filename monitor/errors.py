"""Exceptions of the monitor package. Every one names the source and, when known, the URL.

    MonitorError
    ├── SourceConfigError       the sources file or a source's options are unusable (file:line:field)
    ├── UnknownSourceError      no source of that name / no kind of that name
    ├── SourceError             something went wrong for one source (carries source + url)
    │   ├── FetchError          getting bytes failed
    │   │   ├── FetchTimeout        connect or read took too long, or the whole fetch passed its deadline
    │   │   ├── HTTPStatusError     the server answered 4xx/5xx (``status``)
    │   │   ├── ResponseTooLarge    the body passed the size cap; the download was aborted
    │   │   ├── RefusedURL          the fetch policy refused the scheme or address (before connecting)
    │   │   └── TransportError      DNS, refused connection, reset …
    │   ├── ParseError          bytes arrived but are not the feed/JSON/HTML we expect
    │   └── StoreFailed         the items arrived but could not be stored; fetched again next poll
    ├── ImportFileError         an import file cannot be read at all (rows are reported separately)
    ├── ModelsMismatch          the trained models on disk were cut with another tokenizer than the playbook's
    └── ComplianceError         the playbook lacks what the policy-reprint check needs (monitor.policy_carriage)

The store's errors (``StoreError`` and below) are drawn in ``store/errors.py``.

A duty officer reads these in ``yuqing sources health`` and in chat alerts, so the
messages say what happened and where, not how the code got there.
"""

from __future__ import annotations

from monitor.urls import redact_url


class MonitorError(Exception):
    """Base of every error raised by ``monitor``."""


class ComplianceError(MonitorError):
    """The playbook lacks what the compliance check needs; the message names the section."""


class SourceConfigError(MonitorError):
    """A source definition cannot be used; the message names the file, line and field."""


class UnknownSourceError(MonitorError, KeyError):
    """No configured source or registered kind has that name."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class SourceError(MonitorError):
    """Something went wrong for one source; ``source`` and ``url`` say where."""

    transient = True

    def __init__(self, message: str, *, source: str | None = None, url: str | None = None) -> None:
        self.source = source
        self.url = url
        self.detail = message
        super().__init__(self._compose())

    def _compose(self) -> str:
        url = redact_url(self.url) if self.url else ""
        where = " ".join(p for p in (f"[{self.source}]" if self.source else "", url) if p)
        return f"{where}: {self.detail}" if where else self.detail

    def located(self, source: str | None, url: str | None = None) -> SourceError:
        """Fill in the source (and URL) when a lower layer did not know them."""
        self.source = self.source or source
        self.url = self.url or url
        self.args = (self._compose(),)
        return self

    def __str__(self) -> str:
        return self._compose()


class FetchError(SourceError):
    """The bytes could not be fetched."""


class FetchTimeout(FetchError):
    """The server took longer than the connect/read timeout, or the whole fetch passed its deadline."""


class HTTPStatusError(FetchError):
    """The server answered with an error status."""

    def __init__(self, status: int, *, source: str | None = None, url: str | None = None) -> None:
        self.status = status
        self.transient = status >= 500 or status in (408, 429)
        super().__init__(f"server answered HTTP {status}", source=source, url=url)


class ResponseTooLarge(FetchError):
    """The body grew past the configured maximum; the download was stopped."""


class RefusedURL(FetchError):
    """The fetch policy (monitor.netpolicy) refused the URL, a redirect or a resolved address; nothing was sent."""

    transient = False


class TransportError(FetchError):
    """The connection failed (DNS, refused, reset, TLS)."""


class ParseError(SourceError):
    """The response is not in the shape this kind of source expects."""


class StoreFailed(SourceError):
    """A fetched page's items could not be stored (the pipeline or the store refused them). The source's
    validators are not advanced, so the next poll fetches the same items again: nothing is lost."""


class ImportFileError(MonitorError):
    """An import file cannot be opened or has no usable header."""


class ModelsMismatch(MonitorError):
    """The trained models were made with another tokenizer than the playbook chooses: the service would
    store every item without a category or rumour verdict, so it does not start."""
