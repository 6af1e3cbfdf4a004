-- Every contact of the list, streamed (format=csv|ndjson): no ORDER BY, so ClickHouse sends blocks
-- as it reads them and the export's memory stays flat whatever the number of rows.
SELECT *
FROM {{contact_list}}
SETTINGS do_not_merge_across_partitions_select_final = 1
