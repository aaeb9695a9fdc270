# SPDX-License-Identifier: GPL-2.0-or-later
"""A throwaway certificate authority for the TLS tests, made with the
openssl command: a CA, a server certificate for localhost and 127.0.0.1
signed by it, and a second, unrelated CA that trusts nothing of ours."""

import pathlib
import subprocess


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


class TestCA:
    def __init__(self, directory):
        d = pathlib.Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        self.dir = d
        self.ca_cert = d / "ca.pem"
        self.ca_key = d / "ca.key"
        self.other_ca_cert = d / "other-ca.pem"
        self.cert = d / "server.pem"
        self.key = d / "server.key"
        if self.cert.exists():
            return
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
                 "-days", "2", "-subj", "/CN=deadlined test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other-ca.key", "-out",
                 "other-ca.pem", "-days", "2", "-subj", "/CN=unrelated CA", cwd=d)
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
                 "-subj", "/CN=localhost", cwd=d)
        (d / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                                   "extendedKeyUsage=serverAuth\n")
        _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf", cwd=d)
