-- A customer's contacts on every queue and channel, newest first (the customer journey).
SELECT *
FROM {{contact_list}}
WHERE (toUnixTimestamp64Milli(created), contact_id) < ({before_ms:Int64}, {before_id:String})
ORDER BY created DESC, contact_id DESC
LIMIT {limit:UInt32}
SETTINGS do_not_merge_across_partitions_select_final = 1
