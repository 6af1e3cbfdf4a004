-- Contacts created by weekday (1 = Monday) x hour of day, in {tz} (contact_measures.sql).
SELECT
    local_weekday AS weekday,
    local_hour AS hour,
    count() AS conversations
FROM {{contact_measures}}
GROUP BY weekday, hour
ORDER BY weekday, hour
SETTINGS do_not_merge_across_partitions_select_final = 1
