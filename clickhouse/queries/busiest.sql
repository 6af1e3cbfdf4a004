-- Contacts created by weekday (1 = Monday) x hour of day, in {tz}.
SELECT
    toDayOfWeek(toTimeZone(toDateTime(created), {tz:String})) AS weekday,
    toHour(toTimeZone(toDateTime(created), {tz:String})) AS hour,
    count() AS conversations
FROM contacts FINAL
WHERE created >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
  AND created < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
  AND ({queue:String} = '' OR queue = {queue:String})
  AND (empty({allowed_queues:Array(String)}) OR has({allowed_queues:Array(String)}, queue))
  AND ({channel:String} = '' OR channel = {channel:String})
  AND ({agent:String} = '' OR has(agents, {agent:String}))
  AND ({tag:String} = '' OR has(tags, {tag:String}))
GROUP BY weekday, hour
ORDER BY weekday, hour
SETTINGS do_not_merge_across_partitions_select_final = 1
