-- Gives the embedded ClickHouse's freed memory back to the OS now. chDB allocates with jemalloc,
-- which keeps a landing's freed pages for its decay time (about 10 s), so RSS after a burst
-- stays up to ~30 MB above the steady state (100,000 open contacts, bench step 6). The worker
-- runs it in housekeeping after rows landed, only on chDB: a server manages its own memory.
SYSTEM JEMALLOC PURGE
