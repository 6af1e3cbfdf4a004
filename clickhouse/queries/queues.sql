-- Interval report: one row per queue, channel and interval (aligned in {tz}), counted in the
-- interval of creation. Output aliases never reuse a column name (an alias would shadow the
-- column inside other expressions). Averages are returned as sums and counts so totals can be combined.
-- Threshold: per "queue/channel" ({sl_keys}/{sl_values}), else per channel ({ch_keys}/{ch_values}),
-- else {sl_default}.
-- Clock (issue 14): a queue on the business clock ({sl_business}/{ch_business}, 1 = business,
-- parallel to sl_keys/ch_keys) measures its threshold in business seconds (the *_business_s facts).
WITH
    toTimeZone(toDateTime(created), {tz:String}) AS local_created,
    multiIf({by:String} = '15m', toStartOfFifteenMinutes(local_created),
            {by:String} = 'hour', toStartOfHour(local_created),
            {by:String} = 'day', toStartOfDay(local_created),
            toDateTime(toMonday(local_created), {tz:String})) AS bucket,
    transform(concat(queue, '/', channel), {sl_keys:Array(String)}, {sl_values:Array(Float64)},
              transform(toString(channel), {ch_keys:Array(String)}, {ch_values:Array(Float64)},
                        {sl_default:Float64})) AS threshold_s,
    transform(concat(queue, '/', channel), {sl_keys:Array(String)}, {sl_business:Array(UInt8)},
              transform(toString(channel), {ch_keys:Array(String)}, {ch_business:Array(UInt8)},
                        toUInt8(0))) AS on_business_clock,
    -- the SLA clock's wait: pauses (snoozed, waiting for the customer) left out; rows from before
    -- migration 0006 have no sla_* values and fall back to the plain wait
    if(on_business_clock = 1, sla_wait_business_s,
       coalesce(sla_wait_s, wait_s, first_response_s)) AS sl_wait_s,
    coalesce(wait_s, (toUnixTimestamp64Milli(abandoned) - toUnixTimestamp64Milli(created)) / 1000) AS abandon_wait_s
SELECT
    queue,
    toString(channel) AS channel,
    toUnixTimestamp(bucket) AS start_epoch,
    count() AS offered,
    toUInt64(sum(is_answered)) AS answered_n,
    toUInt64(sum(is_abandoned)) AS abandoned_n,
    countIf(is_abandoned = 1 AND abandon_wait_s <= {short_abandon_s:Float64}) AS short_abandoned,
    countIf(is_answered = 1 AND sl_wait_s <= threshold_s) AS answered_within_sl,
    sumIf(wait_s, is_answered = 1 AND wait_s IS NOT NULL) AS wait_sum_s,
    countIf(is_answered = 1 AND wait_s IS NOT NULL) AS wait_n,
    sumIf(handle_s, is_closed = 1 AND is_abandoned = 0) AS handle_sum_s,
    countIf(is_closed = 1 AND is_abandoned = 0) AS handle_n,
    -- business-hours twins (issue 14): same contacts, business seconds
    sumIf(wait_business_s, is_answered = 1 AND wait_s IS NOT NULL) AS wait_business_sum_s,
    sumIf(handle_business_s, is_closed = 1 AND is_abandoned = 0) AS handle_business_sum_s
FROM contacts FINAL
WHERE created >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
  AND created < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
  AND ({queue:String} = '' OR queue = {queue:String})
  AND (empty({allowed_queues:Array(String)}) OR has({allowed_queues:Array(String)}, queue))
  AND ({channel:String} = '' OR channel = {channel:String})
  AND ({agent:String} = '' OR has(agents, {agent:String}))
  AND ({tag:String} = '' OR has(tags, {tag:String}))
GROUP BY queue, channel, start_epoch
ORDER BY queue, channel, start_epoch
SETTINGS do_not_merge_across_partitions_select_final = 1
