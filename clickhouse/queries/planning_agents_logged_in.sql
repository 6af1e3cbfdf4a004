-- Agents logged in per 15-minute interval, from agent_states: seconds each agent spent in any
-- state but `offline` within the interval, summed and divided by 900 (time-weighted average
-- headcount), and the distinct agents logged in at any moment of it. agent_states has no queue:
-- with a queue (or a scoped token) only agents who worked a contact of those queues and that
-- channel in the range count (agents shared between queues count in full on each).
WITH {interval_s:UInt32} AS iv
SELECT
    b * iv AS start_epoch,
    sum(least(toUnixTimestamp64Milli(end) / 1000, toFloat64((b + 1) * iv))
        - greatest(toUnixTimestamp64Milli(start) / 1000, toFloat64(b * iv))) / iv AS agents_logged_in,
    uniqExact(agent) AS agents_logged_in_max
FROM agent_states FINAL
ARRAY JOIN range(toUInt64(intDiv(toUnixTimestamp(start), iv)),
                 toUInt64(intDiv(greatest(toUnixTimestamp(end), toUnixTimestamp(start) + 1) - 1, iv)) + 1) AS b
WHERE state != 'offline'
  AND end > fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
  AND start < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
  AND b * iv >= intDiv({from_ms:Int64}, 1000) AND b * iv < intDiv({to_ms:Int64}, 1000)
  AND (({queue:String} = '' AND empty({allowed_queues:Array(String)})) OR agent IN (
        SELECT DISTINCT arrayJoin(agents) FROM contacts FINAL
        WHERE created >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
          AND created < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
          AND ({queue:String} = '' OR queue = {queue:String})
          AND (empty({allowed_queues:Array(String)}) OR has({allowed_queues:Array(String)}, queue))
          AND channel = {channel:String}))
GROUP BY start_epoch
ORDER BY start_epoch
