"""The event contract (pure): CloudEvents envelope, one pydantic model per event type, the
registry, JSON Schema export, validation of raw input and the dead-letter record format.

May import only the standard library, pydantic and orjson."""
