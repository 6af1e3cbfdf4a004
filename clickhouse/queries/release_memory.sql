-- Gives the embedded ClickHouse's freed memory back to the OS now. chDB allocates with jemalloc,
-- which keeps a landing's freed pages for its decay time (about 10 s): 24-32 MB with 100,000
-- open contacts arriving as a stream. The worker runs it in housekeeping after rows landed,
-- only on chDB: a server manages its own memory.
SYSTEM JEMALLOC PURGE
