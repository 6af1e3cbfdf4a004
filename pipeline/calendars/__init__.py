"""Calendars and time zones (pure): validated IANA zone names shared by settings, queue
settings and report parameters.

May import only the standard library and pydantic."""
