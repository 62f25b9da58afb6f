"""The data as files: one consistent read of the whole database, the CSV bundle with its Frictionless
descriptor, FollowTheMoney entities, seed files out and back in, and the download files built once
per data version on disk. No Flask. Imports api.store and api.model.
"""
