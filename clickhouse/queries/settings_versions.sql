-- Definition versions (queue-settings hashes) with the time each took effect, oldest first.
SELECT version, toFloat64(toUnixTimestamp64Milli(effective_from)) / 1000 AS effective_from_epoch,
       toFloat64(toUnixTimestamp64Milli(effective_to)) / 1000 AS effective_to_epoch,
       toFloat64(toUnixTimestamp64Milli(recorded_at)) / 1000 AS recorded_at_epoch, origin, settings
FROM settings_versions FINAL
ORDER BY effective_from, recorded_at
