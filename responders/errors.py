"""Exceptions of the responders package; every message is written for a duty officer.

    ResponderError
    ├── UnknownCase            no case / event with that number
    ├── UnknownDepartment      a department name that the playbook does not know
    ├── InvalidTransition      the action is not allowed from the case's state
    │   └── AlreadyDone        the action was already taken (a second button press)
    ├── NotAuthorised          this person may not take this action on this case
    ├── BadCommand             a chat command is malformed (says the right form)
    ├── DeliveryError          a chat API refused or failed (``permanent`` says whether to retry)
    ├── ClarificationError     a clarification action is not possible (responders.clarifications)
    ├── SubmissionError        a submission action is not possible (responders.submissions)
    ├── PointsError            a points row could not be recorded (responders.points)
    ├── SpreadError            spread cannot be measured as asked (responders.spread)
    ├── TemplateMissing        the playbook has no template of that name (responders.messages)
    ├── FontMissing            no CJK font for the reports (responders.reports.fonts)
    ├── ReportError            a report cannot be built or posted (responders.reports.weekly)
    ├── ChartError             a chart was asked for with nothing to draw (responders.reports.charts)
    └── CallbackRefused        a vendor callback failed its signature, timestamp or replay check (responders.chat.guard)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping


class ResponderError(Exception):
    """Base of every error raised by ``responders``.

    An error a person reads names its wording instead of carrying it: ``reply`` is a template of the
    playbook's ``replies`` and ``values`` fill it (``Templates.said`` renders it). Without one, the
    message given is shown as it is.
    """

    reply: str | None = None
    values: Mapping[str, object] = {}

    def __init__(self, *args: object, reply: str | None = None, **values: object) -> None:
        self.reply = reply
        self.values = values
        super().__init__(*(args or (f"{reply} {values}",)))


class UnknownCase(ResponderError, LookupError):
    """No case or event has the number given."""


class UnknownDepartment(ResponderError, LookupError):
    """The department is not in the playbook."""


class InvalidTransition(ResponderError):
    """The assignment cannot take this action in its current state."""

    def __init__(self, case_id: int, action: str, state: str, allowed: str = "", *,
                 reply: str = "invalid_transition") -> None:
        self.case_id = case_id
        self.action = action
        self.state = state
        super().__init__(reply=reply, case=case_id, state=state, action=action, allowed=allowed)


class AlreadyDone(InvalidTransition):
    """The action was already taken; nothing changed (by whom and when, the department already holding
    the case, or the event, when given, are shown after the action)."""

    def __init__(self, case_id: int, action: str, state: str, *, by: str | None = None,
                 at: dt.datetime | None = None, department: str | None = None, event: int | None = None) -> None:
        ResponderError.__init__(self, reply="already_done", case=case_id, action=action, by=by, at=at,
                                department=department, event=event)
        self.case_id = case_id
        self.action = action
        self.state = state


class NotAuthorised(ResponderError, PermissionError):
    """The actor may not take this action; the message says why."""


class BadCommand(ResponderError, ValueError):
    """A command could not be understood; the message shows the expected form."""


class DeliveryError(ResponderError):
    """Sending to a chat failed; transient errors are retried, permanent ones are not.

    ``retry_after`` is the wait the chat API asked for (flood control), if any.
    """

    def __init__(self, message: str, *, permanent: bool, retry_after: dt.timedelta | None = None) -> None:
        self.permanent = permanent
        self.retry_after = retry_after
        super().__init__(message)
