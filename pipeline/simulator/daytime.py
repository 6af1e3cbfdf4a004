"""A fixed-offset zone in which a moment falls at a chosen local hour, so a demo or test that
simulates "now" gets office-hours traffic whatever the machine's clock says."""
from __future__ import annotations

import datetime as dt


def zone_where_local_hour(moment: dt.datetime, local_hour: int = 10) -> str:
    """IANA `Etc/GMT±N` zone (offsets -12..+14) where `moment` is at about `local_hour`."""
    offset = (local_hour - moment.astimezone(dt.timezone.utc).hour) % 24
    if offset > 14:
        offset -= 24
    # Etc/GMT signs are inverted: Etc/GMT-3 is UTC+3
    return "Etc/GMT" + ("" if offset == 0 else f"{-offset:+d}")
