"""The event contract (pure): CloudEvents envelope, one pydantic model per event type, the
registry, JSON Schema export, validation of raw input (with a msgspec fast path translated from
the models: fast_decode.py) and the dead-letter record format.

May import only the standard library, pydantic, msgspec and orjson."""
