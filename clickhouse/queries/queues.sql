-- Interval report: one row per queue, channel and interval (aligned in {tz}), counted in the
-- interval of creation. Every per-contact value (threshold, SL clock, within SL, short abandon,
-- which contacts AHT counts) is defined once in contact_measures.sql; this file only adds them up.
-- Output aliases never reuse a column name (an alias would shadow the column inside other
-- expressions). Averages are returned as sums and counts so totals can be combined.
-- Business-hours twins (issue 14): the same contacts' *_business_s facts, summed alike.
WITH
    multiIf({by:String} = '15m', toStartOfFifteenMinutes(local_created),
            {by:String} = 'hour', toStartOfHour(local_created),
            {by:String} = 'day', toStartOfDay(local_created),
            toDateTime(toMonday(local_created), {tz:String})) AS bucket
SELECT
    queue,
    toString(channel) AS channel_name,
    toUnixTimestamp(bucket) AS start_epoch,
    count() AS offered,
    toUInt64(sum(is_answered)) AS answered_n,
    toUInt64(sum(is_abandoned)) AS abandoned_n,
    toUInt64(sum(is_short_abandoned)) AS short_abandoned,
    toUInt64(sum(is_within_sl)) AS answered_within_sl,
    sumIf(wait_s, is_answered = 1 AND wait_s IS NOT NULL) AS wait_sum_s,
    countIf(is_answered = 1 AND wait_s IS NOT NULL) AS wait_n,
    sumIf(handle_s, is_aht_counted = 1) AS handle_sum_s,
    toUInt64(sum(is_aht_counted)) AS handle_n,
    -- business-hours twins (issue 14): same contacts, business seconds
    sumIf(wait_business_s, is_answered = 1 AND wait_s IS NOT NULL) AS wait_business_sum_s,
    sumIf(handle_business_s, is_aht_counted = 1) AS handle_business_sum_s
FROM {{contact_measures}}
GROUP BY queue, channel_name, start_epoch
ORDER BY queue, channel_name, start_epoch
SETTINGS do_not_merge_across_partitions_select_final = 1
