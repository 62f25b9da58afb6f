"""Processes beside the web server that reuse the layers below: the webhook deliverer
(`icc-events deliver`) and the read-only Model Context Protocol server (`icc-events mcp`).
"""
