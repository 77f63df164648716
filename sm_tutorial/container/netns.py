"""The network of a multi-instance job: hosts algo-1 ... algo-N, each in its own Linux network
(and UTS) namespace, joined by a bridge, unprivileged.

- The job's *cluster* process (``python -I -S netns.py --cluster``) creates the job's user and
  network namespace, with a bridge ``br0`` in it, prints ``ready`` and holds them until its stdin
  closes (the endpoint that started it ended the job, or died).
- Each host's launcher (``launcher.py --cluster SPEC``) joins that user namespace, makes a veth
  pair on the bridge, enters a network, mount and UTS namespace of its own, takes the pair's
  other end as ``eth0`` with address 10.213.0.N/24, its hostname ``algo-N``, a loopback of its
  own, the job's hosts file over /etc/hosts, and a relay of the local AWS stand-in's port on
  127.0.0.1 (to a Unix socket the endpoint serves: the host's loopback is its own).

So every host can bind the same port on every interface (TensorFlow's gRPC server binds
``[::]:8890`` with SO_REUSEPORT: on one shared network namespace, two hosts doing so would
silently share the port), hosts reach each other by name, and nothing outside the machine
(nor the machine itself) can reach them. Done with netlink through Python's socket module and
``setns``/``unshare``/``sethostname`` through ctypes: no ``ip`` tool, no capability outside the
job's own user namespace. Standard library only (the launcher never imports sm_tutorial).
"""
import ctypes
import json
import os
import socket
import struct
import sys
import threading

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWNET, CLONE_NEWUSER = 0x20000, 0x4000000, 0x40000000, 0x10000000
SUBNET = "10.213.0"  # host algo-N is SUBNET.N; private to the job's own namespaces
RTM_NEWLINK, RTM_NEWADDR, NLMSG_ERROR = 16, 20, 2
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE = 1, 4, 0x200, 0x400
IFLA_IFNAME, IFLA_MASTER, IFLA_LINKINFO, IFLA_NET_NS_PID = 3, 10, 18, 19
IFLA_INFO_KIND, IFLA_INFO_DATA, VETH_INFO_PEER = 1, 2, 1
IFA_ADDRESS, IFA_LOCAL, IFF_UP = 1, 2, 1


class NetworkError(Exception):
    """The job's network could not be made; the message says which step and why."""


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    return libc


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise NetworkError(f"{what}: {os.strerror(code)}")


# -- netlink -----------------------------------------------------------------------------
def _attr(kind: int, data: bytes) -> bytes:
    raw = struct.pack("=HH", 4 + len(data), kind) + data
    return raw + b"\0" * (-len(raw) % 4)


def _name(text: str) -> bytes:
    return text.encode() + b"\0"


def _ifinfo(index: int = 0, flags: int = 0, change: int = 0) -> bytes:
    return struct.pack("=BxHiII", socket.AF_UNSPEC, 0, index, flags, change)


class Netlink:
    """A route netlink socket, in the network namespace this thread was in when it was made."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        self.sock.bind((0, 0))
        self.seq = 0

    def request(self, kind: int, body: bytes, what: str, flags: int = 0) -> None:
        self.seq += 1
        header = struct.pack("=IHHII", 16 + len(body), kind,
                             NLM_F_REQUEST | NLM_F_ACK | flags, self.seq, 0)
        self.sock.send(header + body)
        while True:
            reply = self.sock.recv(65536)
            offset = 0
            while offset < len(reply):
                length, rtype, _, seq, _ = struct.unpack_from("=IHHII", reply, offset)
                if rtype == NLMSG_ERROR and seq == self.seq:
                    error = struct.unpack_from("=i", reply, offset + 16)[0]
                    if error:
                        raise NetworkError(f"{what}: {os.strerror(-error)}")
                    return
                offset += (length + 3) & ~3

    def set_up(self, index: int, what: str) -> None:
        self.request(RTM_NEWLINK, _ifinfo(index, IFF_UP, IFF_UP), what)

    def new_link(self, name: str, kind: str, data: bytes = b"") -> None:
        info = _attr(IFLA_INFO_KIND, kind.encode()) + (_attr(IFLA_INFO_DATA, data) if data else b"")
        self.request(RTM_NEWLINK, _ifinfo() + _attr(IFLA_IFNAME, _name(name)) +
                     _attr(IFLA_LINKINFO, info), f"creating {kind} {name}",
                     NLM_F_CREATE | NLM_F_EXCL)

    def set_link(self, index: int, attrs: bytes, what: str) -> None:
        self.request(RTM_NEWLINK, _ifinfo(index) + attrs, what)

    def add_address(self, index: int, address: str, prefix: int) -> None:
        packed = socket.inet_aton(address)
        body = struct.pack("=BBBBI", socket.AF_INET, prefix, 0, 0, index)
        self.request(RTM_NEWADDR, body + _attr(IFA_LOCAL, packed) + _attr(IFA_ADDRESS, packed),
                     f"adding address {address}", NLM_F_CREATE | NLM_F_EXCL)

    def close(self) -> None:
        self.sock.close()


# -- the cluster process -----------------------------------------------------------------
def make_cluster() -> None:
    """This process becomes the job's user and network namespace, with lo and br0 up."""
    libc = _libc()
    uid, gid = os.getuid(), os.getgid()
    _check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNET), "unshare (user, network)")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                       ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)
    link = Netlink()
    try:
        link.set_up(socket.if_nametoindex("lo"), "lo up")
        link.new_link("br0", "bridge")
        link.set_up(socket.if_nametoindex("br0"), "br0 up")
    finally:
        link.close()


def cluster_main() -> None:
    try:
        make_cluster()
    except (NetworkError, OSError) as error:
        print(f"the job's network could not be made: {error}", flush=True)
        sys.exit(1)
    print("ready", flush=True)
    sys.stdin.buffer.read()  # hold the namespaces until the endpoint closes our stdin


# -- a host ------------------------------------------------------------------------------
def join(spec: dict) -> None:
    """Make this (single-threaded) process host number ``spec["index"]`` (1-based) of the
    cluster whose process is ``spec["pid"]``; then the caller sets up its mounts."""
    libc = _libc()
    index, pid = int(spec["index"]), int(spec["pid"])
    for kind, flag in (("user", CLONE_NEWUSER), ("net", CLONE_NEWNET)):  # user first
        fd = os.open(f"/proc/{pid}/ns/{kind}", os.O_RDONLY)
        try:
            _check(libc.setns(fd, flag), f"joining the job's {kind} namespace")
        finally:
            os.close(fd)
    outer, bridge_end, host_end = Netlink(), f"vh{index}", f"eth{index}"
    try:
        peer = _ifinfo() + _attr(IFLA_IFNAME, _name(host_end))
        outer.new_link(bridge_end, "veth", _attr(VETH_INFO_PEER, peer))
        moved = socket.if_nametoindex(host_end)
        outer.set_link(socket.if_nametoindex(bridge_end),
                       _attr(IFLA_MASTER, struct.pack("=I", socket.if_nametoindex("br0"))),
                       "attaching to br0")
        outer.set_up(socket.if_nametoindex(bridge_end), f"{bridge_end} up")
        _check(libc.unshare(CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWUTS),
               "unshare (network, mount, UTS)")
        outer.set_link(moved, _attr(IFLA_NET_NS_PID, struct.pack("=I", os.getpid())),
                       "moving the host's interface")
    finally:
        outer.close()
    inner = Netlink()
    try:
        inner.set_up(socket.if_nametoindex("lo"), "lo up")
        here = socket.if_nametoindex(host_end)
        inner.set_link(here, _attr(IFLA_IFNAME, _name("eth0")), "naming eth0")
        inner.add_address(here, f"{SUBNET}.{index}", 24)
        inner.set_up(here, "eth0 up")
    finally:
        inner.close()
    host = spec["host"].encode()
    _check(libc.sethostname(host, len(host)), "sethostname")


def hosts_file(count: int) -> str:
    """The job's /etc/hosts: every host by name, and localhost."""
    lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"]
    lines += [f"{SUBNET}.{n}\talgo-{n}" for n in range(1, count + 1)]
    return "\n".join(lines) + "\n"


# -- the relay to the local AWS stand-in ---------------------------------------------------
def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock, how in ((target, socket.SHUT_WR), (source, socket.SHUT_RD)):
            try:
                sock.shutdown(how)
            except OSError:
                pass


def _splice(a: socket.socket, b: socket.socket) -> None:
    there = threading.Thread(target=_pump, args=(a, b), daemon=True)
    there.start()
    _pump(b, a)
    there.join()
    a.close()
    b.close()


def relay(listener: socket.socket, connect) -> None:
    """Accept on ``listener`` for ever; join each connection to a new ``connect()``."""
    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return  # closed
        try:
            upstream = connect()
        except OSError:
            client.close()
            continue
        threading.Thread(target=_splice, args=(client, upstream), daemon=True).start()


def start_relay(port: int, unix_path: str) -> None:
    """In a host: 127.0.0.1:``port`` carried to the endpoint's Unix socket ``unix_path``."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)

    def connect():
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(unix_path)
        return sock
    threading.Thread(target=relay, args=(listener, connect), daemon=True).start()


def enter_host(spec_path: str) -> dict:
    """The launcher's part: join the cluster, then the relay; returns the spec."""
    with open(spec_path) as f:
        spec = json.load(f)
    join(spec)
    return spec


if __name__ == "__main__" and sys.argv[1:2] == ["--cluster"]:
    cluster_main()
