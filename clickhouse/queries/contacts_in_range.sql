-- The contacts created in [from_ms, to_ms) (and of {customer:String} when not ''), every column of
-- `contacts`, with the customer's next contact (next_contact_created / _id / _queue): the first of
-- the same customer's contacts after it, up to `to + repeat_days`, whatever its queue or channel.
-- contact_measures.sql reads FROM it. The window runs over those contacts' four narrow columns and
-- is joined back: sorting the full rows for it cost half of the conversations report (bench part
-- 5). Contacts without a customer have no next contact.
-- Speed at 10M events (bench part 5): the join key is contact_id's 128 bits of hash (cityHash64 and
-- xxHash64: fixed-width keys hash and compare faster than the strings, -40 ms; two ids collide
-- with a chance of ~2^-128 per pair), and the window is partitioned by the customer's hash first
-- (the customer itself second, so it stays exact: -15 ms).
SELECT c.*, n.next_contact_created, n.next_contact_id, n.next_contact_queue
FROM contacts AS c FINAL
LEFT JOIN (
  -- the join's right side: contacts of the range that have a next contact (-10 ms)
  SELECT * FROM (
    SELECT
        created AS own_created,
        cityHash64(contact_id) AS contact_key_1,
        xxHash64(contact_id) AS contact_key_2,
        leadInFrame(toNullable(created)) OVER customer_order AS next_contact_created,
        leadInFrame(toNullable(contact_id)) OVER customer_order AS next_contact_id,
        leadInFrame(toNullable(toString(queue))) OVER customer_order AS next_contact_queue
    FROM
    (
        SELECT customer, created, contact_id, queue
        FROM contacts FINAL
        WHERE created >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
          AND created < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC') + toIntervalSecond(toInt64({repeat_days:Float64} * 86400))
          AND customer != ''
          AND ({customer:String} = '' OR customer = {customer:String})
    )
    WINDOW customer_order AS (PARTITION BY cityHash64(customer), customer ORDER BY created, contact_id
                              ROWS BETWEEN CURRENT ROW AND 1 FOLLOWING)
  ) WHERE next_contact_created IS NOT NULL AND own_created < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
) AS n ON cityHash64(c.contact_id) = n.contact_key_1 AND xxHash64(c.contact_id) = n.contact_key_2
WHERE c.created >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
  AND c.created < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
  AND ({customer:String} = '' OR c.customer = {customer:String})
