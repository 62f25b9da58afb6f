"""Marshmallow schemas: the one definition of every record, used to load seeds, validate and dump."""
