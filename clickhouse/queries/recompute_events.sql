-- Every kept event of a set of contacts (deduplicated by id), to re-fold their facts.
SELECT id, type, toFloat64(toUnixTimestamp64Milli(time)) / 1000 AS t, subject, source, data
FROM events FINAL
WHERE subject IN {subjects:Array(String)}
ORDER BY subject, time, id
