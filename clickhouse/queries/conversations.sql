-- Conversations report in one scan: the headline numbers of the previous period and of the
-- report's period, the busiest times and the tags. contact_measures covers both periods
-- (from_ms = the previous period's start, to_ms = the report's end); `period` says which one a
-- contact is in (0 = previous, 1 = the report's, split at current_from_ms). Each headline
-- aggregate is its -Resample(0, 2, 1) twin: an array [previous, current], where a period without
-- contacts gets exactly what the plain aggregate gives over no rows (0, NaN, empty arrays).
-- One scan instead of four: the contacts are read through FINAL and their repeat-contact window
-- computed once (bench part 5).
-- Buckets: response times over every element of response_times_s; handle time over contacts
-- with handle time (has_handle_time). Upper bounds are exclusive (15m bucket = [0, 900)); the
-- bounds are parameters (reports.RESPONSE_BUCKETS / HANDLE_BUCKETS). Counted by bucket id with
-- sumMap: a per-contact vector per bucket cost ~15% of this query at 10M events (bench part 5).
-- Busiest times: contacts of the report's period per hour of the week in {tz}, 168 counts
-- (cell (weekday - 1) * 24 + hour, weekday 1 = Monday; -Resample, not a sumMap of one-element
-- arrays: -12 ms at 10M events); tags: per tag (a conversation with two tags counts once under
-- each) as (keys, counts).
-- Per-contact values come from contact_measures.sql (the one definition of each, including the
-- SL clock, the resolution target and the resolution SLA flags of issue 14).
WITH toUInt8(created >= fromUnixTimestamp64Milli({current_from_ms:Int64}, 'UTC')) AS period
SELECT
    countResample(0, 2, 1)(period) AS conversations,
    uniqExactIfResample(0, 2, 1)(customer, customer != '', period) AS customers,
    countIfResample(0, 2, 1)(customer != '', period) AS conversations_with_customer,
    sumResample(0, 2, 1)(replies, period) AS replies_total,
    countIfResample(0, 2, 1)(is_closed = 1, period) AS closed_n,
    sumIfResample(0, 2, 1)(replies, is_closed = 1, period) AS replies_closed,
    sumResample(0, 2, 1)(toUInt64(is_resolved_on_first_reply), period) AS resolved_first_reply,
    countResample(0, 2, 1)(first_response_s, period) AS first_responses,
    avgResample(0, 2, 1)(first_response_s, period) AS first_response_avg_s,
    quantilesExactInclusiveResample(0.5, 0.9, 0, 2, 1)(first_response_s, period) AS first_response_q,
    sumResample(0, 2, 1)(toUInt64(is_first_response_within_sl), period) AS first_responses_within_sla,
    sumResample(0, 2, 1)(length(response_times_s), period) AS responses,
    avgArrayResample(0, 2, 1)(response_times_s, period) AS response_avg_s,
    quantilesExactInclusiveArrayResample(0.5, 0.9, 0, 2, 1)(response_times_s, period) AS response_q,
    sumResample(0, 2, 1)(toUInt64(has_handle_time), period) AS handled,
    avgIfResample(0, 2, 1)(handle_s, has_handle_time = 1, period) AS handle_avg_s,
    quantilesExactInclusiveIfResample(0.5, 0.9, 0, 2, 1)(handle_s, has_handle_time = 1, period) AS handle_q,
    avgResample(0, 2, 1)(resolution_s, period) AS resolution_avg_s,
    quantilesExactInclusiveResample(0.5, 0.9, 0, 2, 1)(resolution_s, period) AS resolution_q,
    sumResample(0, 2, 1)(toUInt64(is_rated), period) AS ratings,
    avgResample(0, 2, 1)(csat, period) AS csat_avg,
    sumResample(0, 2, 1)(toUInt64(is_rated_good), period) AS ratings_good,
    -- business-hours twins (issue 14): same contacts, business seconds
    avgResample(0, 2, 1)(first_response_business_s, period) AS first_response_business_avg_s,
    quantilesExactInclusiveResample(0.5, 0.9, 0, 2, 1)(first_response_business_s, period) AS first_response_business_q,
    avgArrayResample(0, 2, 1)(response_times_business_s, period) AS response_business_avg_s,
    quantilesExactInclusiveArrayResample(0.5, 0.9, 0, 2, 1)(response_times_business_s, period) AS response_business_q,
    avgIfResample(0, 2, 1)(handle_business_s, has_handle_time = 1, period) AS handle_business_avg_s,
    quantilesExactInclusiveIfResample(0.5, 0.9, 0, 2, 1)(handle_business_s, has_handle_time = 1, period) AS handle_business_q,
    avgResample(0, 2, 1)(resolution_business_s, period) AS resolution_business_avg_s,
    quantilesExactInclusiveResample(0.5, 0.9, 0, 2, 1)(resolution_business_s, period) AS resolution_business_q,
    avgIfResample(0, 2, 1)(wait_business_s, is_answered = 1 AND wait_s IS NOT NULL, period) AS asa_business_avg_s,
    avgIfResample(0, 2, 1)(wait_s, is_answered = 1 AND wait_s IS NOT NULL, period) AS asa_avg_s,
    -- resolution SLA: closed contacts of queues with a target, resolved within it
    sumResample(0, 2, 1)(toUInt64(is_resolution_targeted), period) AS resolutions_targeted,
    sumResample(0, 2, 1)(toUInt64(is_resolved_within_target), period) AS resolved_within_target,
    sumResample(0, 2, 1)(toUInt64(is_resolved_within_target_business), period) AS resolved_within_target_business,
    sumResample(0, 2, 1)(toUInt64(is_repeat), period) AS repeat_contacts,
    -- buckets of the report's period as (bucket ids, counts): every response's bucket
    -- (response_bucket_ids) and every contact's handle_bucket of contact_measures.sql, the columns the
    -- contacts list filters on; a bucket without contacts is left out
    sumMapIf(response_bucket_ids, arrayWithConstant(length(response_bucket_ids), toUInt64(1)), period = 1) AS response_buckets,
    sumMapIf([handle_bucket], [toUInt64(1)], period = 1 AND handle_bucket > 0) AS handle_buckets,
    countIfResample(0, 168, 1)(period = 1, toUInt16((local_weekday - 1) * 24 + local_hour)) AS busiest,
    sumMapIf(tags, arrayWithConstant(length(tags), toUInt64(1)), period = 1) AS tags
FROM {{contact_measures}}
SETTINGS do_not_merge_across_partitions_select_final = 1
