-- How many contacts of the list were created in each hour (UTC): the export groups consecutive
-- hours into slices of about the slice size.
SELECT intDiv(toUnixTimestamp64Milli(created), 3600000) * 3600000 AS hour_ms, count() AS n
FROM {{contact_list}}
GROUP BY hour_ms
ORDER BY hour_ms
SETTINGS do_not_merge_across_partitions_select_final = 1
