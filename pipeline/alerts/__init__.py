"""Alerts and escalations on the live stream.

Pure: `rules` (the rules file model), `engine` (evaluation with an injected clock), `contacts`
(contact facts from state records), `payload` (notification texts). I/O: `delivery` (apprise),
`service` (ownership, Kafka state, ClickHouse history; see its docstring for exactly-once).
"""
