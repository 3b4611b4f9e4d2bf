"""A tiny OpenID Connect provider on loopback, for testing ``st.login`` end to end.

Discovery document, JWKS, an authorize endpoint that consents at once for a fixed
user, a token endpoint that returns an RS256 ``id_token`` (with the request's nonce)
and a userinfo endpoint. Test-only: no client authentication beyond the client id.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from joserfc import jwt
from joserfc.jwk import RSAKey


class MockOIDC:
    """Run with ``with MockOIDC(email=...) as idp:``; ``idp.issuer`` is its base URL."""

    def __init__(self, email: str, name: str = "测试用户", client_id: str = "tingfeng-dashboard") -> None:
        self.email, self.name, self.client_id = email, name, client_id
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key"}, private=True)
        self.codes: dict[str, dict[str, Any]] = {}
        self.requests: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "MockOIDC":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def metadata_url(self) -> str:
        """The discovery document URL (``server_metadata_url`` in Streamlit's [auth])."""
        return f"{self.issuer}/.well-known/openid-configuration"

    def _claims(self, nonce: str | None) -> dict[str, Any]:
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": "user-1", "aud": self.client_id, "iat": now, "exp": now + 600,
                  "email": self.email, "email_verified": True, "name": self.name}
        if nonce:
            claims["nonce"] = nonce
        return claims

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                return

            def _json(self, body: dict[str, Any], status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                url = urlparse(self.path)
                idp.requests.append(f"GET {url.path}")
                if url.path == "/.well-known/openid-configuration":
                    self._json({
                        "issuer": idp.issuer,
                        "authorization_endpoint": f"{idp.issuer}/authorize",
                        "token_endpoint": f"{idp.issuer}/token",
                        "userinfo_endpoint": f"{idp.issuer}/userinfo",
                        "jwks_uri": f"{idp.issuer}/jwks",
                        "response_types_supported": ["code"],
                        "subject_types_supported": ["public"],
                        "id_token_signing_alg_values_supported": ["RS256"],
                        "scopes_supported": ["openid", "email", "profile"],
                        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                        "code_challenge_methods_supported": ["S256"],
                    })
                elif url.path == "/jwks":
                    self._json({"keys": [idp.key.as_dict(private=False)]})
                elif url.path == "/authorize":
                    q = {k: v[0] for k, v in parse_qs(url.query).items()}
                    code = secrets.token_urlsafe(16)
                    idp.codes[code] = {"nonce": q.get("nonce"), "redirect_uri": q["redirect_uri"]}
                    target = q["redirect_uri"] + "?" + urlencode({"code": code, "state": q.get("state", "")})
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.end_headers()
                elif url.path == "/userinfo":
                    self._json(idp._claims(None))
                else:
                    self._json({"error": "not_found"}, 404)

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                idp.requests.append(f"POST {self.path}")
                grant = idp.codes.pop(form.get("code", ""), None)
                if self.path != "/token" or grant is None:
                    self._json({"error": "invalid_grant"}, 400)
                    return
                header = {"alg": "RS256", "kid": "test-key"}
                id_token = jwt.encode(header, idp._claims(grant["nonce"]), idp.key)
                self._json({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 600,
                            "id_token": id_token, "scope": "openid email profile"})

        return Handler
