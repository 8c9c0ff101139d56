# Loaded by moto_server only (MotoServer.swift puts this folder on its PYTHONPATH).
#
# moto checks SigV4 against request.url, which werkzeug rebuilds through uri_to_iri():
# that decodes %2F in the query to "/", so a spec-conformant signature of
# `prefix=drctl%2Fobjects%2F` no longer matches and moto answers SignatureDoesNotMatch
# (the aws CLI fails the same way). Real S3 checks the query as it was sent; so does this
# patch: the query string is appended exactly as it arrived on the request line.
# Nothing else about moto changes.
try:
    import werkzeug.sansio.request as _request
    from werkzeug.sansio.utils import get_current_url as _get_current_url

    def _url_with_raw_query(self):
        base = _get_current_url(self.scheme, self.host, self.root_path, self.path)
        query = self.query_string.decode("latin-1")
        return base + ("?" + query if query else "")

    _request.Request.url = property(_url_with_raw_query)
except Exception:  # a different werkzeug: leave it alone; the S3 listing tests will say so
    pass
