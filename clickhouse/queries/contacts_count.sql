-- How many contacts the list has: the figure the report shows for the same filters; and how
-- many responses they hold (in the drilled response bucket, if any): a response bucket's figure.
SELECT count() AS n, sum(matching_responses) AS responses
FROM {{contact_list}}
SETTINGS do_not_merge_across_partitions_select_final = 1
