-- Staff report from contact facts (contact_measures.sql). `handled` and `customers` count every
-- agent in `agents`; per-contact measures (closed, handle time, first response, CSAT) go to the
-- contact's final agent (`agent`), so they are not double counted when several agents worked a
-- contact. With {agent}, contact_measures keeps the contacts the agent worked and `a` is that agent.
-- Drill-down (issue 17): a cell's list is agent=<a> (handled, customers), plus final_agent=<a>
-- and the cell's flag (is_closed, is_closed_without_reply, has_handle_time, is_rated, ...).
SELECT
    a AS agent_name,
    count() AS handled,
    uniqExactIf(customer, customer != '') AS customers,
    countIf(agent = a AND is_closed = 1) AS closed_n,
    countIf(agent = a AND is_closed_without_reply = 1) AS closed_without_reply,
    sumIf(handle_s, agent = a) AS handle_sum_s,
    countIf(agent = a AND has_handle_time = 1) AS handle_n,
    avgIf(first_response_s, agent = a AND first_response_s IS NOT NULL) AS first_response_avg_s,
    countIf(agent = a AND is_rated = 1) AS ratings,
    avgIf(csat, agent = a AND is_rated = 1) AS csat_avg,
    countIf(agent = a AND is_rated_good = 1) AS ratings_good,
    -- business-hours twins (issue 14)
    sumIf(handle_business_s, agent = a) AS handle_business_sum_s,
    avgIf(first_response_business_s, agent = a AND first_response_s IS NOT NULL) AS first_response_business_avg_s
FROM {{contact_measures}}
ARRAY JOIN agents AS a
WHERE ({agent:String} = '' OR a = {agent:String})
GROUP BY agent_name
ORDER BY agent_name
SETTINGS do_not_merge_across_partitions_select_final = 1
