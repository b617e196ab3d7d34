"""Run the ``dcmspec`` command with the network blocked.

``python tests/offline.py build specs_examples/ -o out/`` is ``dcmspec build ...`` in a process where any
attempt to reach a host other than this machine (a name lookup, a connect, a datagram) ends the process at
once with exit status 97 and a line on stderr, so that an attempt cannot be caught and retried in silence
(pydicom 3.0.0 tried to download its example files at import and made every build wait for timeouts).
Loopback and Unix sockets stay allowed. Forked workers inherit the block. Used by tests/test_offline.py and
by every cell of the version matrix (noxfile.py).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import traceback

EXIT_NETWORK = 97
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


def _is_local(host: object) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(what: str) -> None:
    sys.stderr.write(f"offline guard: network access attempted: {what}\n")
    traceback.print_stack(file=sys.stderr)
    sys.stderr.flush()
    os._exit(EXIT_NETWORK)


def block_network() -> None:
    """Patch the socket module so that any non-local network access ends the process (exit 97)."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect, real_connect_ex, real_sendto = socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto

    def getaddrinfo(host, *args, **kwargs):
        if not _is_local(host):
            _refuse(f"getaddrinfo({host!r})")
        return real_getaddrinfo(host, *args, **kwargs)

    def check(sock: socket.socket, address, what: str) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
            _refuse(f"{what}({address!r})")

    def connect(self, address):
        check(self, address, "connect")
        return real_connect(self, address)

    def connect_ex(self, address):
        check(self, address, "connect_ex")
        return real_connect_ex(self, address)

    def sendto(self, data, *args):
        check(self, args[-1], "sendto")
        return real_sendto(self, data, *args)

    def guard_lookup(real):
        def lookup(host, *args):
            if not _is_local(host):
                _refuse(f"{real.__name__}({host!r})")
            return real(host, *args)

        return lookup

    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname = guard_lookup(socket.gethostbyname)
    socket.gethostbyname_ex = guard_lookup(socket.gethostbyname_ex)
    socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto = connect, connect_ex, sendto


if __name__ == "__main__":
    block_network()
    from dcmspec_compiler.cli import main

    main(args=sys.argv[1:], prog_name="dcmspec")
