"""SQLite: connections and their pragmas, tables, indexes and search, reads (one parameterised,
keyset-paged query per page or item), writes in one transaction each with their change-log entry and
webhook outbox rows, tokens, and checks of a whole database. Plain Python in, rows or domain errors
out: no Flask, nothing of HTTP. Imports api.model, the settings and the schemas, nothing above.
"""
