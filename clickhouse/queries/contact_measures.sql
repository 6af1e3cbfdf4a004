-- THE per-contact definitions. One row per contact created in [from, to) that passes the reports'
-- filters, with every derived value the reports count and the contacts list shows. Every report
-- query and the contacts list read FROM it (`{{contact_measures}}`: pipeline.history.reports.load_query
-- pastes this file in as a subquery), so a report figure and the count of its list are the same
-- SQL. To add a measure (e.g. a business-hours twin), add a column here; the reports aggregate it
-- and the list shows it.
--
-- Parameters: from_ms, to_ms (Int64 epoch ms, [from, to)), queue, channel, agent, tag, contact_id,
-- customer (String, '' = all), allowed_queues (Array(String), empty = all), tz (String IANA),
-- sl_keys/sl_values, ch_keys/ch_values, sl_default (thresholds), short_abandon_s, repeat_days,
-- and per queue/channel (parallel to sl_keys / ch_keys, issue 14): sl_business/ch_business (1 = the
-- queue's SL clock is business hours) and rt_values/ch_rt_values (resolution target s, 0 = none);
-- the report buckets' lower bounds response_bounds/handle_bounds (s, ascending; issue 17).
--
-- Output aliases are new names (is_within_sl, sl_wait_s, ...): an alias that reused a column name
-- would shadow the column inside every other expression.
SELECT
    *,
    -- service-level threshold (s): per "queue/channel", else per channel, else the default
    transform(concat(queue, '/', channel), {sl_keys:Array(String)}, {sl_values:Array(Float64)},
              transform(toString(channel), {ch_keys:Array(String)}, {ch_values:Array(Float64)},
                        {sl_default:Float64})) AS threshold_s,
    -- the queue's SL clock (issue 14): 1 = business hours (the *_business_s facts), 0 = calendar
    transform(concat(queue, '/', channel), {sl_keys:Array(String)}, {sl_business:Array(UInt8)},
              transform(toString(channel), {ch_keys:Array(String)}, {ch_business:Array(UInt8)},
                        toUInt8(0))) AS on_business_clock,
    -- resolution SLA target (s) per queue/channel, else per channel; 0 = none (issue 14)
    transform(concat(queue, '/', channel), {sl_keys:Array(String)}, {rt_values:Array(Float64)},
              transform(toString(channel), {ch_keys:Array(String)}, {ch_rt_values:Array(Float64)},
                        toFloat64(0))) AS resolution_target_s,
    -- the wait the service level judges: created -> answered (voice/chat), else -> first agent reply,
    -- on the queue's SL clock with pauses (snoozed, waiting for the customer) left out; rows from
    -- before migration 0006 have no sla_* values and fall back to the plain wait
    if(on_business_clock = 1, sla_wait_business_s,
       coalesce(sla_wait_s, wait_s, first_response_s)) AS sl_wait_s,
    -- the first response SLA compliance judges: on the SL clock, pauses left out (same fallback)
    if(on_business_clock = 1, sla_first_response_business_s,
       coalesce(sla_first_response_s, first_response_s)) AS sl_first_response_s,
    -- how long an abandoned contact waited before the customer left
    coalesce(wait_s, (toUnixTimestamp64Milli(abandoned) - toUnixTimestamp64Milli(created)) / 1000) AS abandon_wait_s,
    -- outcomes (0/1): answered, abandoned and closed are the fact row's flags
    toUInt8(is_closed = 0 AND is_abandoned = 0) AS is_open,
    toUInt8(is_answered = 1 AND ifNull(sl_wait_s <= threshold_s, 0)) AS is_within_sl,
    toUInt8(is_abandoned = 1 AND ifNull(abandon_wait_s <= {short_abandon_s:Float64}, 0)) AS is_short_abandoned,
    toUInt8(ifNull(sl_first_response_s <= threshold_s, 0)) AS is_first_response_within_sl,
    -- resolution SLA (issue 14): closed contacts of queues with a target, resolved within it
    -- (calendar clock, pauses left out; and the business-hours twin)
    toUInt8(is_closed = 1 AND resolution_target_s > 0) AS is_resolution_targeted,
    toUInt8(is_closed = 1 AND resolution_target_s > 0
            AND ifNull(coalesce(sla_resolution_s, resolution_s) <= resolution_target_s, 0)) AS is_resolved_within_target,
    toUInt8(is_closed = 1 AND resolution_target_s > 0
            AND ifNull(sla_resolution_business_s <= resolution_target_s, 0)) AS is_resolved_within_target_business,
    -- the contacts AHT averages: closed and not abandoned (handle time 0 included)
    toUInt8(is_closed = 1 AND is_abandoned = 0) AS is_aht_counted,
    -- resolved on first reply: closed with one agent reply and never reopened
    toUInt8(is_closed = 1 AND replies = 1 AND reopened = 0) AS is_resolved_on_first_reply,
    -- the contacts the handle-time statistics and buckets count: some handle time
    toUInt8(handle_s > 0) AS has_handle_time,
    -- repeat contact: the same customer's next contact (any queue, any channel) within repeat_days
    toUInt8(customer != '' AND next_contact_created IS NOT NULL
            AND toUnixTimestamp64Milli(assumeNotNull(next_contact_created)) - toUnixTimestamp64Milli(created)
                <= {repeat_days:Float64} * 86400000) AS is_repeat,
    -- rated contacts (CSAT) and good ratings (4 or 5)
    toUInt8(csat IS NOT NULL) AS is_rated,
    toUInt8(ifNull(csat >= 4, 0)) AS is_rated_good,
    -- closed with no agent reply (the staff report)
    toUInt8(is_closed = 1 AND replies = 0) AS is_closed_without_reply,
    -- response-time buckets: the bucket of each of the contact's responses (parallel to
    -- response_times_s; a 1-based index into response_bounds, same rule as handle_bucket: the first
    -- bucket open below, the last above). The report counts the ids, the list tests for one
    arrayMap(x -> toUInt8(1 + arrayCount(b -> x >= b, arrayPopFront({response_bounds:Array(Float64)}))),
             response_times_s) AS response_bucket_ids,
    -- handle-time bucket (1-based index into handle_bounds, same rule); 0 = no handle time
    if(has_handle_time = 1, toUInt8(1 + arrayCount(b -> handle_s >= b, arrayPopFront({handle_bounds:Array(Float64)}))),
       toUInt8(0)) AS handle_bucket,
    toTimeZone(toDateTime(created), {tz:String}) AS local_created,
    -- the busiest-times cell: weekday (1 = Monday) and hour of creation in {tz}
    toDayOfWeek(local_created) AS local_weekday,
    toHour(local_created) AS local_hour
FROM {{contacts_in_range}}
WHERE created >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
  AND created < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
  AND ({queue:String} = '' OR queue = {queue:String})
  AND (empty({allowed_queues:Array(String)}) OR has({allowed_queues:Array(String)}, queue))
  AND ({channel:String} = '' OR channel = {channel:String})
  AND ({agent:String} = '' OR has(agents, {agent:String}))
  AND ({tag:String} = '' OR has(tags, {tag:String}))
  AND ({contact_id:String} = '' OR contact_id = {contact_id:String})
