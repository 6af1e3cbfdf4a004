-- Alert lifecycle history (issue 15), newest first: one row per event of an episode (fired,
-- resolved, acked, delivered, undeliverable). Scoped tokens see only their queues' rows (site-wide
-- episodes have queue '' and are hidden from them).
SELECT episode_id, event, target, toUnixTimestamp64Milli(at) / 1000 AS at, rule, kind, severity,
       queue, channel, contact, agent, metric, value, threshold,
       toUnixTimestamp64Milli(started_at) / 1000 AS started_at,
       toUnixTimestamp64Milli(fired_at) / 1000 AS fired_at,
       if(isNull(resolved_at), NULL, toUnixTimestamp64Milli(assumeNotNull(resolved_at)) / 1000) AS resolved_at,
       acked_by, escalate_to, detail
FROM alerts FINAL
WHERE at >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
  AND ({queue:String} = '' OR queue = {queue:String})
  AND ({scoped:UInt8} = 0 OR has({allowed_queues:Array(String)}, queue))
ORDER BY at DESC, episode_id, event, target
LIMIT {limit:UInt32}
