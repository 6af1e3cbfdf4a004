"""Workforce planning: Erlang C / A staffing, deferred-work backlog, interval forecasts.

Pure maths (no I/O): ``erlang``, ``backlog``, ``forecast``. The CLI (pipeline/commands/plan.py) and
the API (supervisor_api/routes/planning.py) read history and call these.
"""
