"""The domain, with no HTTP and no SQL: the collection registry (every per-collection fact: schema,
table, sorts, filters, includes, labels), how a record maps to a row and back, the public columns of
the exports, the rules that tie a record to its evidence, and the domain errors (api/model/errors.py)
that the layers above raise and the web layer answers. Imports nothing of api/ but itself.
"""
