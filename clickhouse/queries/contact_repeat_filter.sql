-- The repeat-contact filter of contact_list.sql; swapped for always_true.sql when the list does not
-- filter on it (is_repeat needs a window over the customers' contacts, which would cost every list).
{repeat:Int8} = -1 OR is_repeat = {repeat:Int8}
