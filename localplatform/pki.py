"""Certificates, keys and tokens for the local control plane.

One private CA signs one serving certificate for 127.0.0.1 (used by kube-apiserver,
kube-controller-manager and kube-scheduler); a key pair signs service-account tokens; each client
of the API server gets its own bearer token, mapped to the user that RBAC's default bindings expect.
Everything is generated once per platform and kept until ``cluster down`` removes it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVING_DNS = (
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)
SERVING_IPS = ("127.0.0.1", "10.96.0.1")
"""Loopback, and the first address of the service range (the in-cluster ``kubernetes`` Service)."""


@dataclass(frozen=True)
class Identity:
    """A client of the API server: its token file entry and the user RBAC sees."""

    name: str
    user: str
    groups: tuple[str, ...] = ()


IDENTITIES = (
    Identity("admin", "librechat-ops-admin", ("system:masters",)),
    Identity("kube-controller-manager", "system:kube-controller-manager"),
    Identity("kube-scheduler", "system:kube-scheduler"),
    Identity("kwok", "kwok-controller", ("system:masters",)),
    Identity("prometheus", "prometheus-scraper", ("system:monitoring",)),
)
"""The admin (the user's kubeconfig), the two controllers with the users their default RBAC
bindings name, kwok (which writes node and pod status), and Prometheus (reads /metrics)."""


@dataclass(frozen=True)
class Pki:
    """Paths of the generated material under one directory."""

    root: Path

    @property
    def ca_cert(self) -> Path:
        return self.root / "ca.crt"

    @property
    def serving_cert(self) -> Path:
        return self.root / "serving.crt"

    @property
    def serving_key(self) -> Path:
        return self.root / "serving.key"

    @property
    def sa_key(self) -> Path:
        return self.root / "sa.key"

    @property
    def sa_pub(self) -> Path:
        return self.root / "sa.pub"

    @property
    def token_file(self) -> Path:
        return self.root / "tokens.csv"

    def exists(self) -> bool:
        """True when every file is there."""
        files = (self.ca_cert, self.serving_cert, self.serving_key, self.sa_key, self.sa_pub)
        return all(p.is_file() for p in (*files, self.token_file))

    def token(self, identity: str) -> str:
        """The bearer token of one identity (see :data:`IDENTITIES`)."""
        for line in self.token_file.read_text().splitlines():
            token, _user, uid, *_ = line.split(",")
            if uid == identity:
                return token
        raise KeyError(identity)

    def generate(self) -> None:
        """Write a fresh CA, serving certificate, service-account keys and tokens."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)
        now = dt.datetime.now(dt.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "librechat-ops local CA")])
        ca = (
            _builder(ca_name, ca_name, ca_key.public_key(), now, days=3650)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_usage(cert_sign=True), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        sans = [x509.DNSName(n) for n in SERVING_DNS] + [
            x509.IPAddress(ipaddress.ip_address(ip)) for ip in SERVING_IPS
        ]
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")])
        serving = (
            _builder(subject, ca_name, key.public_key(), now, days=825)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write(self.ca_cert, ca.public_bytes(serialization.Encoding.PEM))
        _write(self.serving_cert, serving.public_bytes(serialization.Encoding.PEM))
        _write(self.serving_key, _private_pem(key))
        _write(self.sa_key, _private_pem(sa_key))
        _write(
            self.sa_pub,
            sa_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
        )
        rows = []
        for ident in IDENTITIES:
            groups = f',"{",".join(ident.groups)}"' if ident.groups else ""
            rows.append(f"{secrets.token_hex(24)},{ident.user},{ident.name}{groups}")
        _write(self.token_file, ("\n".join(rows) + "\n").encode())


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    now: dt.datetime,
    *,
    days: int,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _private_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)
