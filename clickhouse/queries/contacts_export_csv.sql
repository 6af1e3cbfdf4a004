-- One slice of the CSV export (format=csv; the API writes the header line): as
-- contacts_export.sql, with arrays as 'a;b'.
SELECT * REPLACE (arrayStringConcat(tags, ';') AS tags, arrayStringConcat(agents, ';') AS agents)
FROM {{contact_list}}
ORDER BY created, contact_id
SETTINGS do_not_merge_across_partitions_select_final = 1
