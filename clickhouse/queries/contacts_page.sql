-- One page of the contacts list, oldest first, after the cursor (created ms, contact id).
SELECT *
FROM {{contact_list}}
WHERE (toUnixTimestamp64Milli(created), contact_id) > ({after_ms:Int64}, {after_id:String})
ORDER BY created, contact_id
LIMIT {limit:UInt32}
SETTINGS do_not_merge_across_partitions_select_final = 1
