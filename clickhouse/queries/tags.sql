-- Conversations per tag (a conversation with two tags counts once under each).
SELECT tag, count() AS conversations
FROM contacts FINAL
ARRAY JOIN tags AS tag
WHERE created >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
  AND created < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
  AND ({queue:String} = '' OR queue = {queue:String})
  AND (empty({allowed_queues:Array(String)}) OR has({allowed_queues:Array(String)}, queue))
  AND ({channel:String} = '' OR channel = {channel:String})
  AND ({agent:String} = '' OR has(agents, {agent:String}))
  AND ({tag:String} = '' OR has(tags, {tag:String}))
GROUP BY tag
ORDER BY conversations DESC, tag
SETTINGS do_not_merge_across_partitions_select_final = 1
