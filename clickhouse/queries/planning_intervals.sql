-- Planning history: one row per 15-minute interval (epoch-aligned: every zone offset in use is a
-- multiple of 15 minutes, so this is the local 15-minute grid too) of contacts created in
-- [from, to) for the queue (or every queue in scope) and channel. Volume = offered; handle sums
-- for the AHT; waiting time of answered AND abandoned contacts for the patience estimate
-- (pipeline/planning/erlang.estimate_patience); answered within the threshold for the actual
-- service level (answered within / offered).
SELECT
    intDiv(toUnixTimestamp(created), 900) * 900 AS start_epoch,
    count() AS offered,
    toUInt64(sum(is_answered)) AS answered_n,
    toUInt64(sum(is_abandoned)) AS abandoned_n,
    countIf(is_answered = 1 AND coalesce(wait_s, first_response_s) <= {threshold_s:Float64}) AS answered_within_sl,
    sumIf(handle_s, is_closed = 1 AND is_abandoned = 0) AS handle_sum_s,
    countIf(is_closed = 1 AND is_abandoned = 0) AS handle_n,
    sumIf(wait_s, is_answered = 1 AND wait_s IS NOT NULL) AS answered_wait_sum_s,
    sumIf(coalesce(wait_s, (toUnixTimestamp64Milli(abandoned) - toUnixTimestamp64Milli(created)) / 1000),
          is_abandoned = 1) AS abandoned_wait_sum_s
FROM contacts FINAL
WHERE created >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
  AND created < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
  AND ({queue:String} = '' OR queue = {queue:String})
  AND (empty({allowed_queues:Array(String)}) OR has({allowed_queues:Array(String)}, queue))
  AND channel = {channel:String}
GROUP BY start_epoch
ORDER BY start_epoch
SETTINGS do_not_merge_across_partitions_select_final = 1
