"""The serving process: Granian in WSGI mode with the settings named in api/server/process.py, and
its log lines as JSON. Started by `icc-events serve`.
"""
