"""Opening the listening socket of a server, with errors a person can act on."""

from __future__ import annotations

import ipaddress
import socket

from sitegen.errors import SitegenError


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: any free port), or a one-line error."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as err:
        raise SitegenError(f"--host {host}: cannot resolve it ({err.strerror})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as err:
        sock.close()
        hint = "; is another server using it? choose another with --port" if port else ""
        raise SitegenError(f"cannot listen on {host} port {port}: {err.strerror}{hint}") from None
    return sock


def is_loopback(address: str) -> bool:
    """Whether a bound address is only reachable from this machine."""
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False
