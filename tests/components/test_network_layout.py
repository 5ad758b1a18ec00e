"""The pure subnet layout of a /16 over three zones."""

from __future__ import annotations

import ipaddress

import pytest

from components.network import subnet_layout


def test_layout_gives_each_zone_a_public_and_a_private_subnet_without_overlap() -> None:
    zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    layout = subnet_layout("10.20.0.0/16", zones)
    assert [p.zone for p in layout] == zones
    vpc = ipaddress.IPv4Network("10.20.0.0/16")
    nets = [ipaddress.IPv4Network(c) for p in layout for c in (p.public_cidr, p.private_cidr)]
    assert all(n.subnet_of(vpc) for n in nets)
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])
    assert all(ipaddress.IPv4Network(p.private_cidr).num_addresses == 16384 for p in layout)


def test_layout_rejects_anything_but_a_slash_16() -> None:
    with pytest.raises(ValueError, match="/16"):
        subnet_layout("10.20.0.0/20", ["a", "b", "c"])
