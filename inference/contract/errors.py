"""Errors the engine raises, each worded for the person who made the request."""


class StudioError(Exception):
    """Base class: the message is meant to be shown to a person as is."""


class InvalidRequest(StudioError):
    """The request itself is wrong (text, options, unknown fields). Fix the input and retry."""


class InvalidAudio(InvalidRequest):
    """The reference audio cannot be used (unreadable, silent, too short, corrupt)."""


class ModelLoadError(StudioError):
    """The model could not be fetched or loaded."""


class BadSetting(ModelLoadError):
    """A server setting (a flag or HVS_* variable) is out of range: a usage error (exit code 2), found
    while the engine is built."""


class Cancelled(StudioError):
    """The caller stopped the take (Stop, a closed page, a cancelled job) before it ended."""
