"""Interval forecasts (volume and handle time) and their backtest. Pure: series in, numbers out.

A series is a list of (local interval start, volume[, handle seconds]) at a fixed interval
(5, 15, 30 or 60 minutes). It is laid out as a day x time-of-day matrix over the OPEN days: a day
with no interval at all is closed (a holiday, a weekend of a weekday-only centre) and is never a
training example; a forecast for a day in ``closed_days`` is zero. Missing intervals of an open day
count 0 (a quiet interval produces no row).

Methods (each forecasts one day from the days before it):
- ``seasonal_naive``: the last open day with the same weekday, interval by interval;
- ``historical_average``: mean of every earlier open day with the same weekday, per interval;
- ``ets_profile``: a daily-level x intraday-profile model. Daily totals of open days, divided by
  a weekday factor (median of recent same-weekday totals), go through statsmodels' simple
  exponential smoothing (smoothing level fitted by maximum likelihood); calendar days that differ
  from their neighbours (the first open day after a closure, the first 3 and the last business
  days of a month) are lifted by the historical ratio of such days to the plain days before them; the
  day's total is spread with the same weekday's mean intraday profile, smoothed over neighbouring
  intervals.
- ``tuned_profile``: the same level x profile idea with its settings chosen per forecast by an inner
  backtest over the 20 open days before the target (never the target or later): the level is a
  fixed-constant exponential smoothing (0.1 to 0.5) of weekday-adjusted totals with weekday factors
  from the last 8 or all plain days, by median or mean; the profile mixes the same weekday's shares
  with all days' shares (weight 1, 0.75, 0.5), weights days by recency (half-life none, 4 or 8
  weeks) and is smoothed by a Gaussian kernel over neighbouring intervals (sigma 0.7 to 2 intervals).
  The level setting is scored on the inner days' totals, the profile on their intervals given their
  true totals; calendar-class lifts as in ``ets_profile``.
``choose`` runs the backtest and keeps the method with the lowest RMSE per series.

Prediction intervals: overdispersed Poisson, var = phi x forecast, phi the mean of squared backtest
errors over the forecast (>= 1); 80 % and 95 % bounds, floored at 0.

Backtest: hold out the last ``days`` open days; forecast each one day ahead from every earlier day;
RMSE and WAPE (sum |error| / sum actual) at the data's interval and summed to 15 minutes.
"""
from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from pipeline.schemas.param_error import ParamError

METHODS = ("seasonal_naive", "historical_average", "ets_profile", "tuned_profile")
_Z80, _Z95 = 1.2816, 1.9600


class ForecastError(ParamError):
    """Bad forecast input: ``param`` names it, ``reason`` says what to do."""


@dataclass
class Series:
    """Open days x slots of one interval length. ``handle`` holds handle seconds (NaN unknown)."""
    interval_s: int
    slots: list[dt.time]                    # time-of-day of each column
    days: list[dt.date]                     # open days, ascending
    volume: np.ndarray                      # len(days) x len(slots)
    handle: np.ndarray                      # total handle seconds per cell (0 when unknown)

    @property
    def weekdays(self) -> np.ndarray:
        return np.array([d.weekday() for d in self.days])


def build_series(points: Iterable[Sequence], interval_s: int | None = None) -> Series:
    """From (start: datetime, volume[, handle_sum_s]) points. The interval is inferred from the
    smallest gap between starts of one day when not given."""
    rows = sorted((p[0], float(p[1]), float(p[2]) if len(p) > 2 and p[2] is not None else 0.0) for p in points)
    if not rows:
        raise ForecastError("history", "no intervals in the history: import or land some contacts first")
    for start, vol, _ in rows:
        if not isinstance(start, dt.datetime):
            raise ForecastError("history", f"interval start {start!r} is not a datetime")
        if not (vol >= 0 and math.isfinite(vol)):
            raise ForecastError("history", f"volume {vol!r} at {start} is not a number >= 0")
    if interval_s is None:
        gaps = [int((b[0] - a[0]).total_seconds()) for a, b in zip(rows, rows[1:])
                if a[0].date() == b[0].date() and b[0] > a[0]]
        if not gaps:
            raise ForecastError("history", "cannot tell the interval length from one interval a day; pass it")
        interval_s = min(gaps)
    if interval_s <= 0 or 86400 % interval_s:
        raise ForecastError("interval_s", f"{interval_s} s does not divide a day (use 300, 900, 1800 or 3600)")
    seen_slots: set[int] = set()
    cells: dict[tuple[dt.date, int], list[float]] = {}
    for start, vol, handle in rows:
        sec = start.hour * 3600 + start.minute * 60 + start.second
        if sec % interval_s:
            raise ForecastError("history", f"{start} is not aligned to {interval_s}-second intervals")
        slot = sec // interval_s
        seen_slots.add(slot)
        cell = cells.setdefault((start.date(), slot), [0.0, 0.0])
        cell[0] += vol
        cell[1] += handle
    slots_idx = sorted(seen_slots)
    col = {s: i for i, s in enumerate(slots_idx)}
    days = sorted({d for d, _ in cells})
    row = {d: i for i, d in enumerate(days)}
    volume = np.zeros((len(days), len(slots_idx)))
    handle = np.zeros_like(volume)
    for (d, s), (v, h) in cells.items():
        volume[row[d], col[s]] = v
        handle[row[d], col[s]] = h
    slots = [dt.time(s * interval_s // 3600, s * interval_s % 3600 // 60, s * interval_s % 60) for s in slots_idx]
    return Series(interval_s=interval_s, slots=slots, days=days, volume=volume, handle=handle)


# --- methods ----------------------------------------------------------------------------------------

def _same_weekday(s_days: list[dt.date], target: dt.date) -> np.ndarray:
    return np.array([i for i, d in enumerate(s_days) if d.weekday() == target.weekday()], dtype=int)


def seasonal_naive(vol: np.ndarray, days: list[dt.date], target: dt.date) -> np.ndarray:
    idx = _same_weekday(days, target)
    if idx.size == 0:
        return vol[-1].copy()
    return vol[idx[-1]].copy()


def historical_average(vol: np.ndarray, days: list[dt.date], target: dt.date) -> np.ndarray:
    idx = _same_weekday(days, target)
    if idx.size == 0:
        return vol.mean(0)
    return vol[idx].mean(0)


def _open_weekdays(days: list[dt.date]) -> frozenset[int]:
    """Weekdays the centre usually opens: present in at least half as many weeks as the commonest."""
    counts = [0] * 7
    for d in days:
        counts[d.weekday()] += 1
    top = max(counts) if days else 0
    return frozenset(w for w in range(7) if counts[w] and counts[w] >= 0.5 * top)


def _after_closure(days: list[dt.date], i: int, target: dt.date | None = None,
                   open_wd: frozenset[int] = frozenset(range(5))) -> bool:
    """Is day i (or ``target``, after days[-1]) the first open day after a closed usual-open day?"""
    if target is None:
        if i == 0:
            return False
        prev, day = days[i - 1], days[i]
    else:
        prev, day = days[-1], target
    d = prev + dt.timedelta(days=1)
    while d < day:
        if d.weekday() in open_wd:
            return True
        d += dt.timedelta(days=1)
    return False


def _profile(vol: np.ndarray, days: list[dt.date], target: dt.date) -> np.ndarray:
    totals = vol.sum(1, keepdims=True)
    ok = totals[:, 0] > 0
    share = np.divide(vol, totals, out=np.zeros_like(vol), where=totals > 0)
    idx = [i for i in _same_weekday(days, target) if ok[i]]
    p = share[idx].mean(0) if idx else share[ok].mean(0)
    if p.size >= 3:
        padded = np.concatenate([p[:1], p, p[-1:]])
        p = 0.25 * padded[:-2] + 0.5 * padded[1:-1] + 0.25 * padded[2:]
    total = p.sum()
    return p / total if total > 0 else np.full(p.size, 1.0 / p.size)


def _weekday_factors(totals: np.ndarray, days: list[dt.date], plain: np.ndarray, recent: int = 8) -> dict[int, float]:
    wds = np.array([d.weekday() for d in days])
    med = {w: float(np.median(totals[(wds == w) & plain][-recent:])) for w in set(wds.tolist())
           if ((wds == w) & plain).any()}
    mean = float(np.mean(list(med.values()))) if med else 1.0
    return {w: (v / mean if mean > 0 else 1.0) for w, v in med.items()}


def _ses(values: np.ndarray) -> float:
    """One-step-ahead simple exponential smoothing (statsmodels, level fitted by MLE)."""
    if values.size < 4:
        return float(values.mean())
    from statsmodels.tsa.holtwinters import SimpleExpSmoothing
    if np.ptp(values) == 0:
        return float(values[0])
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        fit = SimpleExpSmoothing(values, initialization_method="estimated").fit()
        return float(fit.forecast(1)[0])


def _day_class(day: dt.date, after_closure: bool, open_wd: frozenset[int]) -> str:
    """Calendar class of a day whose volume differs from its neighbours: the first open day after a
    closure (work piled up), the first 3 usual business days of a month and the last one (billing,
    pay and statement cycles), else plain."""
    if after_closure:
        return "after_closure"
    k, x = 0, day.replace(day=1)
    while x <= day:
        k += x.weekday() in open_wd
        x += dt.timedelta(days=1)
    if 1 <= k <= 3:
        return "month_start"
    x = day + dt.timedelta(days=1)
    while x.month == day.month and x.weekday() not in open_wd:
        x += dt.timedelta(days=1)
    if x.month != day.month:
        return "month_end"
    return "plain"


def ets_profile(vol: np.ndarray, days: list[dt.date], target: dt.date) -> np.ndarray:
    totals = vol.sum(1)
    open_wd = _open_weekdays(days)
    classes = [_day_class(d, _after_closure(days, i, open_wd=open_wd), open_wd) for i, d in enumerate(days)]
    plain = np.array([c == "plain" for c in classes], dtype=bool)
    factors = _weekday_factors(totals, days, plain)
    wf = np.array([factors.get(d.weekday(), 1.0) for d in days])
    adjusted = totals / np.where(wf > 0, wf, 1.0)
    level = _ses(adjusted[plain]) if plain.sum() else float(adjusted.mean())
    total = level * factors.get(target.weekday(), 1.0)
    kind = _day_class(target, _after_closure(days, len(days), target, open_wd), open_wd)
    total *= _class_lift(adjusted, plain, classes, kind)
    return max(total, 0.0) * _profile(vol, days, target)


def _class_lift(adjusted: np.ndarray, plain: np.ndarray, classes: Sequence[str], kind: str) -> float:
    """Lift of a calendar class: its days against the mean of the 5 plain days before each (1.0 for
    plain days and with fewer than 3 examples)."""
    if kind == "plain":
        return 1.0
    ratios = []
    for i, c in enumerate(classes):
        before = adjusted[:i][plain[:i]][-5:]
        if c == kind and before.size and before.mean() > 0:
            ratios.append(adjusted[i] / before.mean())
    return float(np.mean(ratios)) if len(ratios) >= 3 else 1.0


# --- tuned_profile: level x profile, settings chosen by an inner backtest on earlier days only ------

# Candidate settings. Level: smoothing constant of simple exponential smoothing of the weekday-adjusted
# daily totals, weekday factors from the last 8 plain same-weekday days or all of them, by median or
# mean. Profile: recency half-life in weeks (None = equal weights), weight of the same weekday's shares
# against all days' shares, Gaussian smoothing over neighbouring intervals (sigma in intervals).
_ALPHAS = (0.1, 0.2, 0.3, 0.5)
_FACTOR_WINDOWS = (8, None)
_FACTOR_STATS = ("median", "mean")
_HALF_LIVES = (None, 4.0, 8.0)
_WEEKDAY_WEIGHTS = (1.0, 0.75, 0.5)
_SIGMAS = (0.7, 1.0, 1.5, 2.0)
_INNER_DAYS = 20          # earlier days each setting is scored on
_INNER_MIN_TRAIN = 10     # an inner day needs this many days before it
_DEFAULT_LEVEL = (0.2, 8, "median")
_DEFAULT_PROFILE = (None, 1.0, 1.0)


def _ses_fixed(values: np.ndarray, alpha: float) -> float:
    """Simple exponential smoothing with a fixed constant: level starts at the first value, then
    level = alpha x value + (1 - alpha) x level for each later value; the next day's forecast."""
    if values.size == 0:
        return 0.0
    level = float(values[0])
    for v in values[1:]:
        level = alpha * float(v) + (1.0 - alpha) * level
    return level


def _smooth_profile(p: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian kernel over neighbouring intervals (edges padded with the end values), renormalised
    to sum 1; a flat profile stays flat."""
    half = int(math.ceil(3 * sigma))
    if sigma <= 0 or p.size < 3 or half == 0:
        out = p.astype(float)
    else:
        k = np.arange(-half, half + 1)
        w = np.exp(-0.5 * (k / sigma) ** 2)
        w /= w.sum()
        out = np.convolve(np.concatenate([np.full(half, p[0]), p, np.full(half, p[-1])]), w, mode="valid")
    total = out.sum()
    return out / total if total > 0 else np.full(p.size, 1.0 / p.size)


def _level_total(totals: np.ndarray, wds: np.ndarray, plain: np.ndarray, classes: Sequence[str], j: int,
                 target_wd: int, kind: str, cfg: tuple) -> float:
    """Daily total of day j (or of the target when j = len) from the days before j."""
    alpha, window, stat = cfg
    t, w, pm = totals[:j], wds[:j], plain[:j]
    agg = np.median if stat == "median" else np.mean
    med = {}
    for wd in set(w[pm].tolist()):
        vals = t[(w == wd) & pm]
        med[wd] = float(agg(vals[-window:] if window else vals))
    mean = float(np.mean(list(med.values()))) if med else 0.0
    factors = {wd: (v / mean if mean > 0 else 1.0) for wd, v in med.items()}
    wf = np.array([factors.get(x, 1.0) for x in w.tolist()])
    adjusted = t / np.where(wf > 0, wf, 1.0)
    level = _ses_fixed(adjusted[pm], alpha) if pm.any() else float(adjusted.mean()) if j else 0.0
    total = level * factors.get(target_wd, 1.0) * _class_lift(adjusted, pm, classes[:j], kind)
    return max(total, 0.0)


def _profile_cfg(share: np.ndarray, ok: np.ndarray, ords: np.ndarray, wds: np.ndarray, j: int,
                 target_ord: int, target_wd: int, cfg: tuple) -> np.ndarray:
    """Intraday profile for a day from the shares of the days before j."""
    half_life, wd_weight, sigma = cfg
    rw = ok[:j].astype(float)
    if half_life is not None:
        rw = rw * 0.5 ** ((target_ord - ords[:j]) / (7.0 * half_life))
    same = rw * (wds[:j] == target_wd)
    if rw.sum() <= 0:
        return np.full(share.shape[1], 1.0 / share.shape[1])
    pooled = rw @ share[:j] / rw.sum()
    own = same @ share[:j] / same.sum() if same.sum() > 0 else pooled
    return _smooth_profile(wd_weight * own + (1.0 - wd_weight) * pooled, sigma)


def tuned_parts(vol: np.ndarray, days: list[dt.date], target: dt.date) -> tuple[float, np.ndarray, tuple, tuple]:
    """(daily total, profile, level setting, profile setting) for ``target`` from the days before it.
    Each setting is the candidate with the least squared error over the last ``_INNER_DAYS`` open
    days, each of those forecast from the days before it (the level against the day's total, the
    profile times the day's true total against its intervals): nothing on or after ``target`` is used."""
    totals = vol.sum(1)
    n = len(days)
    open_wd = _open_weekdays(days)
    classes = [_day_class(d, _after_closure(days, i, open_wd=open_wd), open_wd) for i, d in enumerate(days)]
    plain = np.array([c == "plain" for c in classes], dtype=bool)
    wds = np.array([d.weekday() for d in days], dtype=int)
    ords = np.array([d.toordinal() for d in days], dtype=float)
    ok = totals > 0
    share = np.divide(vol, totals[:, None], out=np.zeros_like(vol, dtype=float), where=totals[:, None] > 0)
    inner = list(range(max(_INNER_MIN_TRAIN, n - _INNER_DAYS), n))
    level_cfgs = [(a, w, st) for a in _ALPHAS for w in _FACTOR_WINDOWS for st in _FACTOR_STATS]
    profile_cfgs = [(h, ww, sg) for h in _HALF_LIVES for ww in _WEEKDAY_WEIGHTS for sg in _SIGMAS]
    level_cfg, profile_cfg = _DEFAULT_LEVEL, _DEFAULT_PROFILE
    if inner:
        def level_sse(cfg):
            return sum((_level_total(totals, wds, plain, classes, j, int(wds[j]), classes[j], cfg) - totals[j]) ** 2
                       for j in inner)

        def profile_sse(cfg):
            return sum(float(((totals[j] * _profile_cfg(share, ok, ords, wds, j, ords[j], wds[j], cfg)
                               - vol[j]) ** 2).sum()) for j in inner)
        level_cfg = min(level_cfgs, key=level_sse)          # ties: the first candidate
        profile_cfg = min(profile_cfgs, key=profile_sse)
    kind = _day_class(target, _after_closure(days, n, target, open_wd), open_wd)
    total = _level_total(totals, wds, plain, classes, n, target.weekday(), kind, level_cfg)
    profile = _profile_cfg(share, ok, ords, wds, n, float(target.toordinal()), target.weekday(), profile_cfg)
    return total, profile, level_cfg, profile_cfg


def tuned_profile(vol: np.ndarray, days: list[dt.date], target: dt.date) -> np.ndarray:
    total, profile, _, _ = tuned_parts(vol, days, target)
    return total * profile


_FUNCS = {"seasonal_naive": seasonal_naive, "historical_average": historical_average, "ets_profile": ets_profile,
          "tuned_profile": tuned_profile}


# --- backtest, choice, forecast ----------------------------------------------------------------------

@dataclass
class MethodScore:
    method: str
    rmse: float
    wape: float
    rmse_15m: float
    wape_15m: float
    phi: float                                  # dispersion for the prediction intervals
    days: int

    def as_dict(self) -> dict:
        return {"method": self.method, "rmse": self.rmse, "wape": self.wape, "rmse_15m": self.rmse_15m,
                "wape_15m": self.wape_15m, "phi": self.phi, "days": self.days}


def _to_15m(mat: np.ndarray, s: Series) -> np.ndarray:
    """Sum the columns into 15-minute buckets (unchanged when the interval is 15 min or longer)."""
    if s.interval_s >= 900:
        return mat
    keys = [(t.hour * 3600 + t.minute * 60) // 900 for t in s.slots]
    uniq = sorted(set(keys))
    out = np.zeros((mat.shape[0], len(uniq)))
    pos = {k: i for i, k in enumerate(uniq)}
    for j, k in enumerate(keys):
        out[:, pos[k]] += mat[:, j]
    return out


def backtest(s: Series, days: int = 20, methods: Sequence[str] = METHODS, min_train: int = 5) -> list[MethodScore]:
    for m in methods:
        if m not in _FUNCS:
            raise ForecastError("method", f"unknown method {m!r}; one of {', '.join(METHODS)}")
    n = len(s.days)
    if days < 1:
        raise ForecastError("days", "hold out at least 1 day")
    if n - days < min_train:
        raise ForecastError("days", f"{n} open days in the history: holding out {days} leaves fewer than "
                                    f"{min_train} to learn from; use --days {max(n - min_train, 0)} or more history")
    actual = s.volume[n - days:]
    scores = []
    for m in methods:
        fc = np.array([_FUNCS[m](s.volume[:i], s.days[:i], s.days[i]) for i in range(n - days, n)])
        err = fc - actual
        a15, f15 = _to_15m(actual, s), _to_15m(fc, s)
        total = actual.sum()
        phi = float(np.mean(err ** 2 / np.maximum(fc, 1.0)))
        scores.append(MethodScore(
            method=m, rmse=float(np.sqrt(np.mean(err ** 2))),
            wape=float(np.abs(err).sum() / total) if total > 0 else math.nan,
            rmse_15m=float(np.sqrt(np.mean((f15 - a15) ** 2))),
            wape_15m=float(np.abs(f15 - a15).sum() / total) if total > 0 else math.nan,
            phi=max(phi, 1.0), days=days))
    return scores


@dataclass
class Forecast:
    method: str
    day: dt.date
    interval_s: int
    starts: list[dt.datetime]
    volume: list[float]
    lo80: list[float]
    hi80: list[float]
    lo95: list[float]
    hi95: list[float]
    aht_s: list[float | None]
    closed: bool = False
    scores: list[MethodScore] = field(default_factory=list)

    def rows(self) -> list[dict]:
        return [{"start": st.isoformat(), "volume": v, "lo80": l8, "hi80": h8, "lo95": l9, "hi95": h9, "aht_s": a}
                for st, v, l8, h8, l9, h9, a in zip(self.starts, self.volume, self.lo80, self.hi80,
                                                     self.lo95, self.hi95, self.aht_s)]


def _aht(s: Series, target: dt.date) -> list[float | None]:
    """Handle time per interval: same-weekday handle seconds / volume, else the day's, else none."""
    idx = _same_weekday(s.days, target)
    vol = s.volume[idx] if idx.size else s.volume
    han = s.handle[idx] if idx.size else s.handle
    overall = float(han.sum() / vol.sum()) if vol.sum() > 0 and han.sum() > 0 else None
    out: list[float | None] = []
    for j in range(len(s.slots)):
        v, h = vol[:, j].sum(), han[:, j].sum()
        out.append(float(h / v) if v >= 5 and h > 0 else overall)
    return out


def forecast_day(s: Series, target: dt.date, *, method: str | None = None, backtest_days: int = 10,
                 closed_days: Iterable[dt.date] = ()) -> Forecast:
    """Forecast ``target`` from every open day before it. ``method=None``: the backtest's best."""
    history = [i for i, d in enumerate(s.days) if d < target]
    if not history:
        raise ForecastError("day", f"no history before {target}")
    past = Series(s.interval_s, s.slots, [s.days[i] for i in history], s.volume[history], s.handle[history])
    scores: list[MethodScore] = []
    hold = min(backtest_days, len(past.days) - 5)
    if hold >= 1:
        scores = backtest(past, hold, METHODS if method is None else (method,))
    if method is None:
        method = min(scores, key=lambda sc: sc.rmse).method if scores else "historical_average"
    elif method not in _FUNCS:
        raise ForecastError("method", f"unknown method {method!r}; one of {', '.join(METHODS)}")
    phi = next((sc.phi for sc in scores if sc.method == method), 1.0)
    starts = [dt.datetime.combine(target, t) for t in s.slots]
    if target in set(closed_days):
        zero = [0.0] * len(starts)
        return Forecast(method, target, s.interval_s, starts, zero, zero, zero, zero, zero,
                        [None] * len(starts), closed=True, scores=scores)
    f = np.maximum(_FUNCS[method](past.volume, past.days, target), 0.0)
    sd = np.sqrt(phi * np.maximum(f, 0.0))
    return Forecast(method, target, s.interval_s, starts, f.tolist(),
                    np.maximum(f - _Z80 * sd, 0).tolist(), (f + _Z80 * sd).tolist(),
                    np.maximum(f - _Z95 * sd, 0).tolist(), (f + _Z95 * sd).tolist(),
                    _aht(past, target), scores=scores)


def holiday_dates(country: str, years: Iterable[int]) -> frozenset[dt.date]:
    """Public holidays of ``country`` (ISO code, optionally "CC-SUBDIV", e.g. "US", "ES-MD") in
    ``years``, from the `holidays` library: days a planner may declare closed."""
    import holidays

    code, _, subdiv = country.strip().upper().partition("-")
    try:
        cal = holidays.country_holidays(code, subdiv=subdiv or None, years=sorted(set(years)))
    except NotImplementedError:
        raise ForecastError("holidays", f"unknown country or subdivision {country[:20]!r}; use an ISO code "
                                        "such as US, GB, ES or ES-MD") from None
    return frozenset(cal.keys())


def parse_csv_rows(lines: Iterable[str]) -> list[tuple[dt.datetime, float, float | None]]:
    """A planner's CSV of past interval volumes: a header with a start column (start, datetime,
    interval, time, DateTime) and a volume column (volume, calls, offered, contacts, count), and
    optionally aht_s or handle_s. Times in ISO format; a trailing Z or offset is dropped (intervals are
    local wall-clock times). Parsing only; reading the file is the caller's job."""
    import csv
    reader = csv.reader(lines)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ForecastError("csv", "the file is empty; expected a header such as 'start,volume'") from None
    def find(names):
        return next((header.index(n) for n in names if n in header), None)
    c_start = find(("start", "datetime", "interval", "interval_start", "time", "date_time"))
    c_vol = find(("volume", "calls", "offered", "contacts", "count"))
    c_aht = find(("aht_s", "aht"))
    c_handle = find(("handle_s", "handle_sum_s"))
    if c_start is None or c_vol is None:
        raise ForecastError("csv", f"header {header!r} needs a start column (start/datetime) and a volume "
                                   "column (volume/calls/offered)")
    out = []
    for lineno, row in enumerate(reader, start=2):
        if not row or not any(x.strip() for x in row):
            continue
        try:
            text = row[c_start].strip().replace("Z", "")
            start = dt.datetime.fromisoformat(text).replace(tzinfo=None)
            vol = float(row[c_vol])
            handle = None
            if c_handle is not None and row[c_handle].strip():
                handle = float(row[c_handle])
            elif c_aht is not None and row[c_aht].strip():
                handle = float(row[c_aht]) * vol
        except (ValueError, IndexError) as exc:
            raise ForecastError("csv", f"line {lineno}: {exc}; expected an ISO start and a number") from None
        out.append((start, vol, handle))
    return out
