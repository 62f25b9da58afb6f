"""gzip and friends on the fly (flask-compress), except for byte ranges."""

from flask_compress import Compress


class Compression(Compress):
    """flask-compress, leaving a 206 as it is: its bytes and Content-Range are those of the file itself."""

    def after_request(self, response):
        if response.status_code == 206:
            response.vary.add("Accept-Encoding")
            return response
        return super().after_request(response)
