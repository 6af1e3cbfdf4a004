-- When a contact was created (to run contact_measures over that instant only), and its queue.
SELECT created, queue
FROM contacts FINAL
WHERE contact_id = {contact_id:String}
ORDER BY version DESC
LIMIT 1
