"""Exceptions of the classifiers package.

    ClassifierError
    ├── DataError          a training or input record is unusable (names file and line)
    ├── ModelFileError     a model directory is missing, foreign, corrupt or of another format
    │   └── TokenizerMismatchError  a model was trained with another tokenizer than the one asked for
    ├── TokenizerUnavailableError   the chosen tokenizer is not installed
    ├── NotFittedError     a model was asked to predict before it was trained
    └── SummaryError       a running summary (an event's heat state) cannot serve: rebuild it from the items
"""

from __future__ import annotations


class ClassifierError(Exception):
    """Base of every error raised by ``classifiers``."""


class DataError(ClassifierError, ValueError):
    """A record cannot be used; the message names the file and line when known."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None) -> None:
        self.source = source
        self.line = line
        where = ""
        if source is not None:
            where = f"{source}:{line}: " if line is not None else f"{source}: "
        elif line is not None:
            where = f"line {line}: "
        super().__init__(where + message)


class ModelFileError(ClassifierError):
    """A model directory cannot be trusted or read; the message names the path."""


class TokenizerMismatchError(ModelFileError):
    """A model trained with one tokenizer was asked to run under another; the message names both."""


class TokenizerUnavailableError(ClassifierError):
    """The chosen tokenizer (or the one a model was trained with) is not installed."""


class NotFittedError(ClassifierError):
    """Prediction was asked of a model that has not been trained."""


class SummaryError(ClassifierError, ValueError):
    """A running summary does not read, was summed under other playbook values, or is asked about a time
    it no longer covers; the caller sums it again from the items it summarises."""
