-- Conversations report headline numbers over one range (also run for the previous period).
-- Buckets: response times over every element of response_times_s; handle time over contacts
-- with handle_s > 0. Upper bounds are exclusive (15m bucket = [0, 900)).
WITH
    transform(concat(queue, '/', channel), {sl_keys:Array(String)}, {sl_values:Array(Float64)},
              transform(toString(channel), {ch_keys:Array(String)}, {ch_values:Array(Float64)},
                        {sl_default:Float64})) AS threshold_s,
    -- clock and resolution target per queue (issue 14); target 0 = none
    transform(concat(queue, '/', channel), {sl_keys:Array(String)}, {sl_business:Array(UInt8)},
              transform(toString(channel), {ch_keys:Array(String)}, {ch_business:Array(UInt8)},
                        toUInt8(0))) AS on_business_clock,
    transform(concat(queue, '/', channel), {sl_keys:Array(String)}, {rt_values:Array(Float64)},
              transform(toString(channel), {ch_keys:Array(String)}, {ch_rt_values:Array(Float64)},
                        toFloat64(0))) AS resolution_target_s,
    -- SLA-clock durations (pauses left out; rows from before migration 0006 fall back)
    if(on_business_clock = 1, sla_first_response_business_s,
       coalesce(sla_first_response_s, first_response_s)) AS sla_fr_s
SELECT
    count() AS conversations,
    uniqExactIf(customer, customer != '') AS customers,
    countIf(customer != '') AS conversations_with_customer,
    sum(replies) AS replies_total,
    countIf(is_closed = 1) AS closed_n,
    sumIf(replies, is_closed = 1) AS replies_closed,
    countIf(is_closed = 1 AND replies = 1 AND reopened = 0) AS resolved_first_reply,
    count(first_response_s) AS first_responses,
    avg(first_response_s) AS first_response_avg_s,
    quantilesExactInclusive(0.5, 0.9)(first_response_s) AS first_response_q,
    countIf(sla_fr_s IS NOT NULL AND sla_fr_s <= threshold_s) AS first_responses_within_sla,
    sum(length(response_times_s)) AS responses,
    avgArray(response_times_s) AS response_avg_s,
    quantilesExactInclusiveArray(0.5, 0.9)(response_times_s) AS response_q,
    countIf(handle_s > 0) AS handled,
    avgIf(handle_s, handle_s > 0) AS handle_avg_s,
    quantilesExactInclusiveIf(0.5, 0.9)(handle_s, handle_s > 0) AS handle_q,
    avg(resolution_s) AS resolution_avg_s,
    quantilesExactInclusive(0.5, 0.9)(resolution_s) AS resolution_q,
    count(csat) AS ratings,
    avg(csat) AS csat_avg,
    countIf(csat >= 4) AS ratings_good,
    -- business-hours twins (issue 14): same contacts, business seconds
    avg(first_response_business_s) AS first_response_business_avg_s,
    quantilesExactInclusive(0.5, 0.9)(first_response_business_s) AS first_response_business_q,
    avgArray(response_times_business_s) AS response_business_avg_s,
    quantilesExactInclusiveArray(0.5, 0.9)(response_times_business_s) AS response_business_q,
    avgIf(handle_business_s, handle_s > 0) AS handle_business_avg_s,
    quantilesExactInclusiveIf(0.5, 0.9)(handle_business_s, handle_s > 0) AS handle_business_q,
    avg(resolution_business_s) AS resolution_business_avg_s,
    quantilesExactInclusive(0.5, 0.9)(resolution_business_s) AS resolution_business_q,
    avgIf(wait_business_s, is_answered = 1 AND wait_s IS NOT NULL) AS asa_business_avg_s,
    avgIf(wait_s, is_answered = 1 AND wait_s IS NOT NULL) AS asa_avg_s,
    -- resolution SLA: closed contacts of queues with a target, resolved within it
    countIf(is_closed = 1 AND resolution_target_s > 0) AS resolutions_targeted,
    countIf(is_closed = 1 AND resolution_target_s > 0
            AND coalesce(sla_resolution_s, resolution_s) <= resolution_target_s) AS resolved_within_target,
    countIf(is_closed = 1 AND resolution_target_s > 0
            AND sla_resolution_business_s <= resolution_target_s) AS resolved_within_target_business,
    [sum(arrayCount(x -> x < 900, response_times_s)),
     sum(arrayCount(x -> x >= 900 AND x < 1800, response_times_s)),
     sum(arrayCount(x -> x >= 1800 AND x < 3600, response_times_s)),
     sum(arrayCount(x -> x >= 3600 AND x < 7200, response_times_s)),
     sum(arrayCount(x -> x >= 7200 AND x < 10800, response_times_s)),
     sum(arrayCount(x -> x >= 10800 AND x < 21600, response_times_s)),
     sum(arrayCount(x -> x >= 21600 AND x < 43200, response_times_s)),
     sum(arrayCount(x -> x >= 43200 AND x < 86400, response_times_s)),
     sum(arrayCount(x -> x >= 86400 AND x < 172800, response_times_s)),
     sum(arrayCount(x -> x >= 172800, response_times_s))] AS response_buckets,
    [countIf(handle_s > 0 AND handle_s < 60),
     countIf(handle_s >= 60 AND handle_s < 120),
     countIf(handle_s >= 120 AND handle_s < 300),
     countIf(handle_s >= 300 AND handle_s < 600),
     countIf(handle_s >= 600)] AS handle_buckets
FROM contacts FINAL
WHERE created >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
  AND created < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
  AND ({queue:String} = '' OR queue = {queue:String})
  AND (empty({allowed_queues:Array(String)}) OR has({allowed_queues:Array(String)}, queue))
  AND ({channel:String} = '' OR channel = {channel:String})
  AND ({agent:String} = '' OR has(agents, {agent:String}))
  AND ({tag:String} = '' OR has(tags, {tag:String}))
SETTINGS do_not_merge_across_partitions_select_final = 1
