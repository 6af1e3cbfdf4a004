-- Replies per agent, counted at the time they were sent (events log, replays collapsed by FINAL).
SELECT agent, count() AS replies
FROM events FINAL
WHERE type = 'contact.agent_replied'
  AND agent != ''
  AND time >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
  AND time < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
  AND ({queue:String} = '' OR queue = {queue:String})
  AND (empty({allowed_queues:Array(String)}) OR has({allowed_queues:Array(String)}, queue))
  AND ({channel:String} = '' OR channel = {channel:String})
  AND ({agent:String} = '' OR agent = {agent:String})
  AND ({tag:String} = '' OR subject IN (SELECT contact_id FROM contacts FINAL WHERE has(tags, {tag:String})))
GROUP BY agent
ORDER BY agent
SETTINGS do_not_merge_across_partitions_select_final = 1
