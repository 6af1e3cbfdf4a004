-- The contacts behind a report figure: contact_measures.sql (the reports' own filters and
-- per-contact definitions) narrowed by the figure being drilled into. Counting these rows gives the
-- report's figure for the same filters, because both are the same SQL.
--   {outcome}: '' (all), answered, abandoned, short_abandoned, open, closed, aht_counted,
--              resolved_on_first_reply (the is_* / has_* flags of contact_measures)
--   {within_sl}, {first_response_within_sl}, {repeat}, {has_handle_time}, {closed_without_reply},
--   {rated}, {rated_good}, {resolution_targeted}, {resolved_within_target},
--   {resolved_within_target_business}: -1 (any), 0, 1
--   {final_agent}: the contact's final agent (the staff report's per-contact measures), '' = any
--   {weekday} (1 = Monday), {hour}: the busiest-times cell, in {tz}; -1 = any
--   {response_bucket}, {handle_bucket}: 1-based bucket of the conversations report, 0 = any; a
--   contact is in a response bucket when at least one of its responses is, and
--   matching_responses says how many (their sum over the list is the bucket's figure)
--   duration ranges: parallel arrays {dur_keys} (a duration column), {dur_ops} (gt, gte, lt, lte),
--   {dur_values} (seconds); a NULL duration never matches a range
-- Columns are the list's (and the export's); is_repeat is computed only when {repeat} asks for it
-- (it needs a window over the customers' contacts).
WITH
    map('wait_s', wait_s, 'first_response_s', first_response_s, 'handle_s', toNullable(handle_s),
        'resolution_s', resolution_s, 'sl_wait_s', sl_wait_s, 'abandon_wait_s', abandon_wait_s) AS durations
SELECT
    contact_id, queue, toString(channel) AS channel, customer, priority, tags,
    created, first_assigned, answered, first_response, abandoned, closed, last_event,
    agent, agents, wait_s, first_response_s, handle_s, resolution_s, sl_wait_s, abandon_wait_s,
    replies, customer_messages, reopened, transfers, csat, threshold_s,
    is_answered, is_abandoned, is_short_abandoned, is_open, is_closed, is_within_sl,
    is_first_response_within_sl, is_aht_counted, has_handle_time, is_resolved_on_first_reply,
    if({response_bucket:UInt8} = 0, toUInt64(length(response_times_s)),
       toUInt64(countEqual(response_bucket_ids, {response_bucket:UInt8}))) AS matching_responses
FROM {{contact_measures}}
WHERE multiIf({outcome:String} = '', 1,
              {outcome:String} = 'answered', is_answered,
              {outcome:String} = 'abandoned', is_abandoned,
              {outcome:String} = 'short_abandoned', is_short_abandoned,
              {outcome:String} = 'open', is_open,
              {outcome:String} = 'closed', is_closed,
              {outcome:String} = 'aht_counted', is_aht_counted,
              {outcome:String} = 'resolved_on_first_reply', is_resolved_on_first_reply,
              0) = 1
  AND ({within_sl:Int8} = -1 OR is_within_sl = {within_sl:Int8})
  AND ({first_response_within_sl:Int8} = -1 OR is_first_response_within_sl = {first_response_within_sl:Int8})
  AND ({has_handle_time:Int8} = -1 OR has_handle_time = {has_handle_time:Int8})
  AND ({closed_without_reply:Int8} = -1 OR is_closed_without_reply = {closed_without_reply:Int8})
  AND ({rated:Int8} = -1 OR is_rated = {rated:Int8})
  AND ({rated_good:Int8} = -1 OR is_rated_good = {rated_good:Int8})
  AND ({resolution_targeted:Int8} = -1 OR is_resolution_targeted = {resolution_targeted:Int8})
  AND ({resolved_within_target:Int8} = -1 OR is_resolved_within_target = {resolved_within_target:Int8})
  AND ({resolved_within_target_business:Int8} = -1
       OR is_resolved_within_target_business = {resolved_within_target_business:Int8})
  AND ({final_agent:String} = '' OR agent = {final_agent:String})
  AND ({weekday:Int8} = -1 OR local_weekday = {weekday:Int8})
  AND ({hour:Int8} = -1 OR local_hour = {hour:Int8})
  AND ({response_bucket:UInt8} = 0 OR has(response_bucket_ids, {response_bucket:UInt8}))
  AND ({handle_bucket:UInt8} = 0 OR handle_bucket = {handle_bucket:UInt8})
  AND {{contact_repeat_filter}}
  AND arrayAll((k, op, v) -> ifNull(multiIf(op = 'gt', durations[k] > v, op = 'gte', durations[k] >= v,
                                            op = 'lt', durations[k] < v, durations[k] <= v), 0),
               {dur_keys:Array(String)}, {dur_ops:Array(String)}, {dur_values:Array(Float64)})
