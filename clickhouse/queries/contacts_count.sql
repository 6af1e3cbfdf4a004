-- How many contacts the list has: the figure the report shows for the same filters.
SELECT count() AS n
FROM {{contact_list}}
SETTINGS do_not_merge_across_partitions_select_final = 1
