-- Contacts created in [from, to): the ones `tablero recompute` rebuilds.
SELECT DISTINCT subject
FROM events
WHERE type = 'contact.created'
  AND time >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
  AND time < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
ORDER BY subject
