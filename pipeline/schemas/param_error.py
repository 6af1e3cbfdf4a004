"""One error type for a bad request parameter, shared by the reports, planning and forecasts:
``param`` names the parameter, ``reason`` says why and what to do; routes answer it as a 400
``{"detail": {"param", "reason"}}`` and commands print it. Pure."""
from __future__ import annotations


class ParamError(ValueError):
    def __init__(self, param: str, reason: str):
        super().__init__(f"{param}: {reason}")
        self.param = param
        self.reason = reason

    def as_dict(self) -> dict[str, str]:
        return {"param": self.param, "reason": self.reason}
