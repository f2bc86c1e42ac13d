"""The web desk: the duty room's, the departments' and the leaders' pages over the same store and rules.

Served by ``yuqing.web`` beside the chat callbacks. Pages are server-rendered Jinja2 from the same
environment as the chat messages; actions call the same :class:`responders.desk.Desk` methods as the
chat buttons, so authorisation, idempotence and the audit trail are shared.
"""
