-- One slice of the NDJSON export (format=ndjson): the list's rows created in the slice's
-- [from, to), in list order. The API exports in slices planned from contacts_export_plan.sql so
-- memory stays flat whatever the number of rows (embedded chDB materializes a query's whole
-- result before its first byte, so one big streaming query would not be flat).
SELECT *
FROM {{contact_list}}
ORDER BY created, contact_id
SETTINGS do_not_merge_across_partitions_select_final = 1
