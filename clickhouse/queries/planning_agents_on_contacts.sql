-- Agents seen working contacts per 15-minute interval, from contact facts (for sources without
-- agent states, e.g. a call log): distinct agents whose answered -> closed span overlaps the
-- interval (a lower bound of the agents logged in: idle agents are invisible), and the busy
-- agent-equivalents (overlapping seconds / 900).
WITH {interval_s:UInt32} AS iv,
     toUnixTimestamp64Milli(answered) / 1000 AS a_s,
     toUnixTimestamp64Milli(closed) / 1000 AS c_s
SELECT
    b * iv AS start_epoch,
    uniqExact(agent) AS agents_seen,
    sum(least(c_s, toFloat64((b + 1) * iv)) - greatest(a_s, toFloat64(b * iv))) / iv AS agents_busy
FROM contacts FINAL
ARRAY JOIN range(toUInt64(intDiv(toUInt64(a_s), iv)), toUInt64(intDiv(toUInt64(greatest(c_s, a_s + 0.001) - 0.001), iv)) + 1) AS b
WHERE answered IS NOT NULL AND closed IS NOT NULL AND agent != ''
  AND created >= fromUnixTimestamp64Milli({from_ms:Int64} - 86400000, 'UTC')
  AND created < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
  AND ({queue:String} = '' OR queue = {queue:String})
  AND (empty({allowed_queues:Array(String)}) OR has({allowed_queues:Array(String)}, queue))
  AND channel = {channel:String}
  AND b * iv >= intDiv({from_ms:Int64}, 1000) AND b * iv < intDiv({to_ms:Int64}, 1000)
GROUP BY start_epoch
ORDER BY start_epoch
SETTINGS do_not_merge_across_partitions_select_final = 1
