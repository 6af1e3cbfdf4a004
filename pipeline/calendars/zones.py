"""IANA time-zone names as a validated type shared by every settings and parameter model."""
from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator


def check_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory such as "Europe"
        raise ValueError(f"unknown IANA time zone {name!r}; use e.g. 'Europe/Madrid' or 'UTC'") from None
    return name


ZoneName = Annotated[str, AfterValidator(check_zone)]
