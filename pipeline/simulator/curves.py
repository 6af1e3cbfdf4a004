"""Intraday arrival curves: share of a day's volume per 15-minute slot of local time.

Pure data and arithmetic, no I/O. Each curve is a tuple of 96 non-negative weights (slot 0 is
00:00-00:15 local time) that sum to 1, one for weekdays and one for weekends, plus per-weekday volume
factors (Monday is busier than Wednesday, Sunday quieter than Saturday).

The voice weekday curve is the mean of `/work/shared/data/bank_calls_5min_2003.csv` (calls per
5 minutes on 164 weekdays at a North American bank, Weinberg, Brown & Stroud 2007) folded into
15-minute slots; the weekday factors come from the same data (mean calls per weekday / mean of all
weekdays). The chat and email curves are parametric shapes with the usual features (chat peaks at
lunch and in the evening; email arrives around the clock with an office-hours hump).
"""
from __future__ import annotations

import math

SLOTS_PER_DAY = 96
SLOT_S = 900.0

# bank_calls_5min_2003.csv, weekdays, 07:00 .. 21:00 local, share of the day per 15-minute slot.
_BANK_VOICE_0700 = (
    0.0078, 0.00692, 0.00761, 0.00888, 0.01186, 0.01364, 0.01582, 0.01792, 0.02248, 0.02474,
    0.02591, 0.02602, 0.02607, 0.02629, 0.02618, 0.02602, 0.0256, 0.02564, 0.02498, 0.02485,
    0.02416, 0.02413, 0.02386, 0.02361, 0.02325, 0.02293, 0.02294, 0.0228, 0.02229, 0.02247,
    0.0224, 0.02224, 0.02169, 0.02163, 0.0213, 0.02105, 0.02009, 0.01969, 0.01825, 0.01747,
    0.01551, 0.01478, 0.01364, 0.01286, 0.01177, 0.01146, 0.01064, 0.01012, 0.00933, 0.00894,
    0.00856, 0.00813, 0.00767, 0.00725, 0.00709, 0.00661, 0.00215,
)
# Mean calls per weekday in the same data set divided by the weekday mean (Mon..Fri).
_BANK_WEEKDAY_FACTORS = (1.12, 1.01, 0.95, 0.95, 0.98)


def _normalise(weights: list[float]) -> tuple[float, ...]:
    total = sum(weights)
    return tuple(w / total for w in weights)


def _bump(slot: float, centre_h: float, width_h: float) -> float:
    h = slot / 4.0
    return math.exp(-0.5 * ((h - centre_h) / width_h) ** 2)


def _voice_weekday() -> tuple[float, ...]:
    w = [0.0] * SLOTS_PER_DAY
    for i, v in enumerate(_BANK_VOICE_0700):
        w[28 + i] = v
    return _normalise(w)


def _voice_weekend() -> tuple[float, ...]:
    # Weekend lines open 10:00-18:00, a flatter late-morning peak.
    w = [0.0] * SLOTS_PER_DAY
    for s in range(40, 72):
        w[s] = 0.4 + _bump(s, 12.5, 2.0) + 0.5 * _bump(s, 16.0, 1.5)
    return _normalise(w)


def _chat_weekday() -> tuple[float, ...]:
    w = [0.0] * SLOTS_PER_DAY
    for s in range(32, 88):  # 08:00-22:00
        w[s] = 0.3 + _bump(s, 10.5, 1.5) + 0.8 * _bump(s, 13.0, 1.0) + 0.9 * _bump(s, 19.5, 1.5)
    return _normalise(w)


def _chat_weekend() -> tuple[float, ...]:
    w = [0.0] * SLOTS_PER_DAY
    for s in range(40, 88):  # 10:00-22:00
        w[s] = 0.4 + 0.6 * _bump(s, 12.5, 1.5) + _bump(s, 20.0, 1.5)
    return _normalise(w)


def _email_weekday() -> tuple[float, ...]:
    w = [0.15 + 1.2 * _bump(s, 10.0, 2.0) + 0.9 * _bump(s, 15.0, 2.0) + 0.3 * _bump(s, 21.0, 1.5)
         for s in range(SLOTS_PER_DAY)]
    return _normalise(w)


def _email_weekend() -> tuple[float, ...]:
    w = [0.2 + 0.8 * _bump(s, 12.0, 3.0) + 0.5 * _bump(s, 20.0, 2.0) for s in range(SLOTS_PER_DAY)]
    return _normalise(w)


CURVES: dict[str, dict[str, tuple[float, ...]]] = {
    "voice": {"weekday": _voice_weekday(), "weekend": _voice_weekend()},
    "chat": {"weekday": _chat_weekday(), "weekend": _chat_weekend()},
    "email": {"weekday": _email_weekday(), "weekend": _email_weekend()},
}

# Volume factor per weekday (0 = Monday) relative to the configured weekday volume.
DAY_FACTORS: dict[str, tuple[float, ...]] = {
    "voice": _BANK_WEEKDAY_FACTORS + (0.35, 0.2),
    "chat": (1.05, 1.0, 1.0, 0.98, 0.97, 0.7, 0.6),
    "email": (1.2, 1.0, 0.95, 0.95, 0.9, 0.3, 0.25),
}


def curve(channel: str, weekday: int) -> tuple[float, ...]:
    """96 slot weights summing to 1 for `channel` on `weekday` (0 = Monday)."""
    return CURVES[channel]["weekend" if weekday >= 5 else "weekday"]


def day_factor(channel: str, weekday: int) -> float:
    return DAY_FACTORS[channel][weekday]
