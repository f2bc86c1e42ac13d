"""Test helpers shared by more than one test package (fakes at the boundaries).

``tests/`` is on ``sys.path`` because pytest imports ``tests/conftest.py`` in its default "prepend"
mode, so test modules and conftests write ``from support.fake_bot_api import FakeBotAPI``. Helpers
that one package alone uses stay beside that package's ``conftest.py`` (``responders_support``,
``mon_helpers``, ``desk_support``); no test module imports from a conftest.
"""
