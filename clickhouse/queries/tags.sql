-- Conversations per tag (a conversation with two tags counts once under each).
SELECT tag_name AS tag, count() AS conversations
FROM {{contact_measures}}
ARRAY JOIN tags AS tag_name
GROUP BY tag_name
ORDER BY conversations DESC, tag_name
SETTINGS do_not_merge_across_partitions_select_final = 1
