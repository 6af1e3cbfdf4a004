-- Conversations report headline numbers over one range (also run for the previous period).
-- Buckets: response times over every element of response_times_s; handle time over contacts
-- with handle time (has_handle_time). Upper bounds are exclusive (15m bucket = [0, 900)); the
-- bounds are parameters (reports.RESPONSE_BUCKETS / HANDLE_BUCKETS).
-- Per-contact values come from contact_measures.sql (the one definition of each, including the
-- SL clock, the resolution target and the resolution SLA flags of issue 14).
SELECT
    count() AS conversations,
    uniqExactIf(customer, customer != '') AS customers,
    countIf(customer != '') AS conversations_with_customer,
    sum(replies) AS replies_total,
    countIf(is_closed = 1) AS closed_n,
    sumIf(replies, is_closed = 1) AS replies_closed,
    toUInt64(sum(is_resolved_on_first_reply)) AS resolved_first_reply,
    count(first_response_s) AS first_responses,
    avg(first_response_s) AS first_response_avg_s,
    quantilesExactInclusive(0.5, 0.9)(first_response_s) AS first_response_q,
    toUInt64(sum(is_first_response_within_sl)) AS first_responses_within_sla,
    sum(length(response_times_s)) AS responses,
    avgArray(response_times_s) AS response_avg_s,
    quantilesExactInclusiveArray(0.5, 0.9)(response_times_s) AS response_q,
    toUInt64(sum(has_handle_time)) AS handled,
    avgIf(handle_s, has_handle_time = 1) AS handle_avg_s,
    quantilesExactInclusiveIf(0.5, 0.9)(handle_s, has_handle_time = 1) AS handle_q,
    avg(resolution_s) AS resolution_avg_s,
    quantilesExactInclusive(0.5, 0.9)(resolution_s) AS resolution_q,
    toUInt64(sum(is_rated)) AS ratings,
    avg(csat) AS csat_avg,
    toUInt64(sum(is_rated_good)) AS ratings_good,
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
    toUInt64(sum(is_resolution_targeted)) AS resolutions_targeted,
    toUInt64(sum(is_resolved_within_target)) AS resolved_within_target,
    toUInt64(sum(is_resolved_within_target_business)) AS resolved_within_target_business,
    toUInt64(sum(is_repeat)) AS repeat_contacts,
    -- buckets: the per-contact response_bucket_counts / handle_bucket of contact_measures.sql
    -- (the contacts list filters on the same columns); empty when no contact matches
    sumForEach(response_bucket_counts) AS response_buckets,
    sumForEach(arrayMap(i -> toUInt64(handle_bucket = i), arrayEnumerate({handle_bounds:Array(Float64)}))) AS handle_buckets
FROM {{contact_measures}}
SETTINGS do_not_merge_across_partitions_select_final = 1
