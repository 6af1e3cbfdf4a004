"""CloudEvents 1.0 envelope, structured JSON mode (the attributes around `data`).

Top level is closed: the CloudEvents attributes below, plus *extension attributes* whose names
follow the CloudEvents naming rule (lowercase a-z/0-9, at most 20 chars) and whose values are
strings, integers or booleans. Anything else (a typo such as `Subject`, `data_base64`, an object
value) is rejected, because a silently ignored top-level typo would lose a field the publisher
thought it sent. Unknown keys *inside* `data` are ignored instead (see contact_events.py).
"""
from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from pipeline.schemas.fields import NO_CONTROL_PATTERN, EventTime, Id

SPECVERSION = "1.0"
VERSION_ATTRIBUTE = "tablerover"  # CloudEvents extension naming the contract version of `data`
DEFAULT_VERSION = "1"

_EXTENSION_NAME = re.compile(r"[a-z0-9]{1,20}")
_MAX_EXTENSION_LEN = 1024  # keeps one odd attribute from bloating every stored event

Source = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=256, pattern=NO_CONTROL_PATTERN)]
DataContentType = Annotated[
    str, StringConstraints(strict=True, max_length=128, pattern=r"^application/(cloudevents\+)?json\s*(;.*)?$")
]
DataSchema = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=512, pattern=NO_CONTROL_PATTERN)]


class EnvelopeV1(BaseModel):
    """Attributes shared by every v1 event; subclasses pin `type` and the `data` model."""

    model_config = ConfigDict(
        strict=True, extra="allow", frozen=True,
        # JSON Schema form of the extension rule enforced by _extensions_only below
        json_schema_extra={
            "propertyNames": {"pattern": "^[a-z0-9]{1,20}$"},
            "additionalProperties": {"type": ["string", "integer", "boolean"]},
        },
    )

    specversion: Literal["1.0"] = Field(description="CloudEvents spec version; always \"1.0\".")
    id: Id = Field(description="Publisher-unique event id; the dedup key.")
    source: Source = Field(description="The publishing system (URI-reference or name).")
    time: EventTime = Field(description="RFC 3339 event time with offset (Z or +hh:mm).")
    subject: Id = Field(description="Contact id; agent id for agent.* events.")
    datacontenttype: DataContentType | None = Field(None, description="application/json when present.")
    dataschema: DataSchema | None = Field(None, description="Informational; not used for dispatch.")
    tablerover: Literal["1"] | None = Field(
        None, description="Contract version of `data` (CloudEvents extension); absent means \"1\".")

    @model_validator(mode="after")
    def _extensions_only(self):
        extra = self.__pydantic_extra__
        if extra:  # empty for almost every event: the fast path skips the loop
            for name, value in extra.items():
                if not _EXTENSION_NAME.fullmatch(name):
                    _bad(name, "unknown attribute '{attribute}': extension attribute names are lowercase "
                               "letters and digits, at most 20 characters")
                if isinstance(value, str):
                    if len(value) > _MAX_EXTENSION_LEN:
                        _bad(name, "extension attribute '{attribute}' is longer than 1024 characters")
                elif isinstance(value, bool):
                    pass
                elif not isinstance(value, int) or not -(2**31) <= value < 2**31:
                    _bad(name, "extension attribute '{attribute}' must be a string, a 32-bit integer or a boolean")
        return self


def _bad(name: str, message: str):
    # ctx carries the attribute name so validation can report it as the rejected field
    raise PydanticCustomError("extension_attribute", message, {"attribute": name})
