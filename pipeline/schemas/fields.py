"""Reusable field types of the event contract (v1).

Every model of the contract is strict (no str->int coercion, no bool-as-int): a publisher
bug should be rejected at the door, not half-understood downstream.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, GetCoreSchemaHandler, GetJsonSchemaHandler, StringConstraints
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

CHANNELS: tuple[str, ...] = ("email", "voice", "chat")
Channel = Literal["email", "voice", "chat"]

AGENT_STATES: tuple[str, ...] = ("offline", "available", "busy", "after_contact_work", "away")
AgentState = Literal["offline", "available", "busy", "after_contact_work", "away"]

# Ids end up as Kafka keys, ClickHouse strings and wallboard labels: bounded, no control chars.
NO_CONTROL_PATTERN = r"^[^\x00-\x1f\x7f]*$"
Id = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=128, pattern=NO_CONTROL_PATTERN)]
Text = Annotated[str, StringConstraints(strict=True, max_length=1024, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")]

# 1970 (not 2000) is the lower bound because real historical data sets (the Anonymous Bank
# calls of 1999) must stay importable; 9999 or 1900 are still publisher bugs. Bounds are instants.
MIN_YEAR = 1970
MAX_YEAR = 2100
MIN_TIME = datetime(MIN_YEAR, 1, 1, tzinfo=timezone.utc)
END_TIME = datetime(MAX_YEAR + 1, 1, 1, tzinfo=timezone.utc)

# RFC 3339 date-time with a mandatory offset. Checked as a string first because pydantic's lax
# datetime parser alone would also take unix numbers, date-only strings and naive times.
RFC3339_PATTERN = r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"


class _EventTime:
    """str (RFC 3339, offset required) -> aware datetime within MIN_TIME..END_TIME.

    One core chain schema with no Python callbacks: time parsing runs on every event."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.chain_schema([
            core_schema.str_schema(strict=True, pattern=RFC3339_PATTERN),
            core_schema.datetime_schema(strict=False, tz_constraint="aware", ge=MIN_TIME, lt=END_TIME),
        ])

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {"type": "string", "format": "date-time", "pattern": RFC3339_PATTERN}


EventTime = Annotated[datetime, _EventTime]


def _sorted_distinct(v: list[str]) -> list[str]:
    return sorted(set(v))


# Tags are a set: order and repetition carry no meaning, so normalize once here.
Tags = Annotated[list[Id], Field(max_length=64), AfterValidator(_sorted_distinct)]
