"""The OpenAPI 3.1 description, generated with apispec from the marshmallow schemas and the web
layer's routes by `icc-events openapi` at commit time into api/web/openapi.yaml, which the server
serves as a file. Nothing at run time imports it.
"""
