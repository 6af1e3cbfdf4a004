-- One contact's row of contact_measures: every derived value as the reports count it, with its
-- customer's next contact (run over [created, created + 1 ms) with {contact_id}).
SELECT * EXCEPT (channel, local_created), toString(channel) AS channel
FROM {{contact_measures}}
SETTINGS do_not_merge_across_partitions_select_final = 1
