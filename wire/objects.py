"""What the wire models share: naming a JSON value's kind, and reading a dialogue's speakers (a JSON object of
speaker name -> voice object) with errors that name the speaker and the field."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from inference.contract.errors import InvalidRequest
from inference.contract.request import check_speaker_count, describe_validation_error


def kind_of(value: Any) -> str:
    """A JSON value's kind in words: "an object", "a list", "a number", ..."""
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def read_speakers(value: Any, model: type[BaseModel]) -> dict[str, BaseModel] | None:
    """`speakers` as it came: None, or each speaker's voice object read into `model`. Raises InvalidRequest."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidRequest(f"speakers must be an object of speaker name -> voice (got {kind_of(value)}).")
    check_speaker_count(value)
    speakers = {}
    for name, spec in value.items():
        if isinstance(spec, model):
            speakers[name] = spec
            continue
        if not isinstance(spec, dict):
            raise InvalidRequest(f"speakers.{name} must be an object such as {{\"voice\": \"robot_en\"}} "
                                 f"(got {kind_of(spec)}).")
        unknown = sorted(set(spec) - set(model.model_fields))
        if unknown:
            raise InvalidRequest(f"Unknown field {', '.join(map(repr, unknown))} in speakers.{name} "
                                 f"(allowed: {', '.join(sorted(model.model_fields))}).")
        try:
            speakers[name] = model.model_validate(spec)
        except InvalidRequest as err:
            raise InvalidRequest(f"speakers.{name}: {err}") from None
        except ValidationError as err:
            raise InvalidRequest(f"speakers.{name}: {describe_validation_error(err)}") from None
    return speakers
