"""What every chat vendor shares: callback requests, replay refusal, and the conversation.

A vendor backend (``responders.notifiers.wecom``, ``.dingtalk``, ``.feishu``) is only transport
and rendering: it verifies a callback, turns it into an :class:`~responders.chat.conversation.Press`
or a text line with an :class:`~responders.cases.Actor`, hands it to the one
:class:`~responders.chat.conversation.Conversation` (the same ``press_button`` / ``run_command``
path the Telegram bot and the console use, so authorisation, idempotence and the audit trail are
one code), and renders the :class:`~responders.chat.conversation.Outcome` its own way.
"""
