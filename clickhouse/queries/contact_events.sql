-- One contact's events (its timeline), replays collapsed by FINAL, in event-time order.
SELECT id, type, time, source, queue, channel, agent, data, kafka_partition, kafka_offset, ingested_at
FROM events FINAL
WHERE subject = {contact_id:String}
ORDER BY time, id
