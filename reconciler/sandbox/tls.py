"""Throwaway TLS for the sandbox: a trustme CA, a leaf for 127.0.0.1/localhost, and PEM files on disk.

azure-core refuses bearer tokens over plain http, so TLS is mandatory. Two PEMs are written: the sandbox CA alone
(RECONCILE_CA_BUNDLE, connection_verify=) and certifi's roots + the CA (REQUESTS_CA_BUNDLE, for tools that can
only take a whole bundle, like the Azure CLI).
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass

import trustme


@dataclass
class TlsMaterial:
    context: ssl.SSLContext
    ca_path: str
    bundle_path: str


def make_tls(directory: str) -> TlsMaterial:
    os.makedirs(directory, exist_ok=True)
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    ca_path = os.path.join(directory, "sandbox-ca.pem")
    ca_pem = ca.cert_pem.bytes()
    with open(ca_path, "wb") as fh:
        fh.write(ca_pem)
    bundle_path = os.path.join(directory, "sandbox-bundle.pem")
    roots = b""
    try:
        import certifi

        with open(certifi.where(), "rb") as fh:
            roots = fh.read()
    except (ImportError, OSError):  # a bundle with only the sandbox CA still works for the sandbox itself
        pass
    with open(bundle_path, "wb") as fh:
        fh.write(roots.rstrip(b"\n") + b"\n" + ca_pem)
    return TlsMaterial(context, ca_path, bundle_path)
