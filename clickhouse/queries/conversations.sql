-- Conversations report in one scan: the headline numbers of the previous period and of the
-- report's period, the busiest times and the tags. contact_measures covers both periods
-- (from_ms = the previous period's start, to_ms = the report's end); `period` says which one a
-- contact is in (0 = previous, 1 = the report's, split at current_from_ms), one row per period
-- that has contacts. {split_periods:UInt8} = 0 makes `period` the constant 0: over an empty range
-- this gives the one row of what each aggregate gives over no rows (0, NaN, empty arrays: the
-- setting below), which reports.conversations_report uses for a period without contacts.
-- One scan instead of four: the contacts are read through FINAL and their repeat-contact window
-- computed once; GROUP BY period rather than -Resample(0, 2, 1) pairs: -30 ms at 10M events
-- (bench part 5; aggregation by a UInt8 key runs in batches, -Resample row by row).
-- Buckets: response times over every element of response_times_s; handle time over contacts
-- with handle time (has_handle_time). Upper bounds are exclusive (15m bucket = [0, 900)); the
-- bounds are parameters (reports.RESPONSE_BUCKETS / HANDLE_BUCKETS). Counted by bucket id with
-- sumMap: a per-contact vector per bucket cost ~15% of this query at 10M events (bench part 5).
-- Busiest times: contacts of the report's period per hour of the week in {tz}, 168 counts (cell
-- (weekday - 1) * 24 + hour, weekday 1 = Monday); tags: per tag (a conversation with two tags
-- counts once under each) as (keys, counts).
-- Per-contact values come from contact_measures.sql (the one definition of each, including the
-- SL clock, the resolution target and the resolution SLA flags of issue 14).
WITH if({split_periods:UInt8} = 1, toUInt8(created >= fromUnixTimestamp64Milli({current_from_ms:Int64}, 'UTC')),
        toUInt8(0)) AS period
SELECT
    period,
    count() AS conversations,
    uniqExactIf(customer, customer != '') AS customers,
    countIf(customer != '') AS conversations_with_customer,
    sum(replies) AS replies_total,
    countIf(is_closed = 1) AS closed_n,
    sumIf(replies, is_closed = 1) AS replies_closed,
    sum(toUInt64(is_resolved_on_first_reply)) AS resolved_first_reply,
    count(first_response_s) AS first_responses,
    avg(first_response_s) AS first_response_avg_s,
    quantilesExactInclusive(0.5, 0.9)(first_response_s) AS first_response_q,
    sum(toUInt64(is_first_response_within_sl)) AS first_responses_within_sla,
    sum(length(response_times_s)) AS responses,
    avgArray(response_times_s) AS response_avg_s,
    quantilesExactInclusiveArray(0.5, 0.9)(response_times_s) AS response_q,
    sum(toUInt64(has_handle_time)) AS handled,
    avgIf(handle_s, has_handle_time = 1) AS handle_avg_s,
    quantilesExactInclusiveIf(0.5, 0.9)(handle_s, has_handle_time = 1) AS handle_q,
    avg(resolution_s) AS resolution_avg_s,
    quantilesExactInclusive(0.5, 0.9)(resolution_s) AS resolution_q,
    sum(toUInt64(is_rated)) AS ratings,
    avg(csat) AS csat_avg,
    sum(toUInt64(is_rated_good)) AS ratings_good,
    -- business-hours twins (issue 14): same contacts, business seconds
    avg(first_response_business_s) AS first_response_business_avg_s,
    quantilesExactInclusive(0.5, 0.9)(first_response_business_s) AS first_response_business_q,
    avgArray(response_times_business_s) AS response_business_avg_s,
    quantilesExactInclusiveArray(0.5, 0.9)(response_times_business_s) AS response_business_q,
    avgIf(handle_business_s, has_handle_time = 1) AS handle_business_avg_s,
    quantilesExactInclusiveIf(0.5, 0.9)(handle_business_s, has_handle_time = 1) AS handle_business_q,
    avg(resolution_business_s) AS resolution_business_avg_s,
    quantilesExactInclusive(0.5, 0.9)(resolution_business_s) AS resolution_business_q,
    avgIf(wait_business_s, is_answered = 1 AND wait_s IS NOT NULL) AS asa_business_avg_s,
    avgIf(wait_s, is_answered = 1 AND wait_s IS NOT NULL) AS asa_avg_s,
    -- resolution SLA: closed contacts of queues with a target, resolved within it
    sum(toUInt64(is_resolution_targeted)) AS resolutions_targeted,
    sum(toUInt64(is_resolved_within_target)) AS resolved_within_target,
    sum(toUInt64(is_resolved_within_target_business)) AS resolved_within_target_business,
    sum(toUInt64(is_repeat)) AS repeat_contacts,
    -- buckets of the report's period (in the period-1 row) as (bucket ids, counts): every response's bucket
    -- (response_bucket_ids) and every contact's handle_bucket of contact_measures.sql, the columns the
    -- contacts list filters on; a bucket without contacts is left out
    sumMapIf(response_bucket_ids, arrayWithConstant(length(response_bucket_ids), toUInt64(1)), period = 1) AS response_buckets,
    sumMapIf([handle_bucket], [toUInt64(1)], period = 1 AND handle_bucket > 0) AS handle_buckets,
    countIfResample(0, 168, 1)(period = 1, toUInt16((local_weekday - 1) * 24 + local_hour)) AS busiest,
    sumMapIf(tags, arrayWithConstant(length(tags), toUInt64(1)), period = 1) AS tags
FROM {{contact_measures}}
GROUP BY period
SETTINGS do_not_merge_across_partitions_select_final = 1,
         empty_result_for_aggregation_by_constant_keys_on_empty_set = 0
