-- A condition that always holds: what an optional filter is swapped for when it is not asked for.
1
