"""loopnet.py -- many tipd on the loopback of one namespace host.

For overlay tests and bench/scale: N daemons, each listening on
127.0.0.1:(7800+k) inside one network namespace made by lan.Lan (so nothing
touches the machine's own loopback), started with --no-discovery and
--peer to one or two seeds; peer exchange does the rest.

    with lan.Lan(1, ipv6=False) as net:
        ln = loopnet.LoopNet(net, 40, seeds=1)
        ln.start()
        ln.wait(lambda: ln.connected(), 60, "connected")

Each node is a lan.Tipd (own data dir, API socket, log). Helpers read
`status` (gossip counters) and `peers`, the process's CPU time and RSS from
/proc, and decide whether the linked graph is connected.
"""
import os
import time

import lan

BASE_PORT = 7800


class LoopNet:
    def __init__(self, net, n, seeds=1, extra=()):
        self.net = net
        self.host = net[1]
        self.n = n
        self.seeds = seeds
        self.nodes = []
        for k in range(n):
            args = ["--listen", "tcp://127.0.0.1:%d" % (BASE_PORT + k), "--no-discovery",
                    "--name", "n%d" % k]
            for s in range(seeds):
                if s != k:
                    args += ["--peer", "tcp://127.0.0.1:%d" % (BASE_PORT + s)]
            t = self.host.extra_tipd("n%d" % k, args + list(extra), start=False)
            self.nodes.append(t)

    def start(self, nodes=None, wait=True):
        nodes = self.nodes if nodes is None else nodes
        for t in nodes:
            t.start(wait=False)
        if wait:
            for t in nodes:
                self.net.wait(lambda t=t: lan._api_ready(t.sock), 60, t.name + " API",
                              alive=lambda t=t: t.proc.poll() is None)

    def alive(self):
        return [t for t in self.nodes if t.proc is not None and t.proc.poll() is None]

    def wait(self, cond, timeout, what, interval=0.5):
        self.net.wait(cond, timeout, what, interval=interval)

    # ---- reading the nodes ----

    def links(self, nodes=None):
        """{node name: set of linked peer names}."""
        out = {}
        for t in nodes or self.alive():
            out[t.name] = {p.get("name") for p in t.peers() if p.get("state") == "linked"}
        return out

    def connected(self, nodes=None):
        """True if the linked graph over the given (default: live) nodes is
        one component (links counted when either side reports them)."""
        nodes = nodes or self.alive()
        names = {t.name for t in nodes}
        short = {t.name: t.tag for t in nodes}  # peer names are the --name (tag)
        back = {v: k for k, v in short.items()}
        adj = {t.name: set() for t in nodes}
        for name, ps in self.links(nodes).items():
            for p in ps:
                o = back.get(p)
                if o in names:
                    adj[name].add(o)
                    adj[o].add(name)
        start = next(iter(adj))
        seen, todo = {start}, [start]
        while todo:
            for o in adj[todo.pop()]:
                if o not in seen:
                    seen.add(o)
                    todo.append(o)
        return len(seen) == len(adj)

    def status(self, t):
        return t.status()

    def events(self, t):
        return t.status()["events"]


def proc_cpu_s(pid):
    """utime + stime of a process in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1])
    return 0


def tipd_pid(t):
    """The tipd pid behind a lan.Tipd (spawned through nsenter, which
    execs, so it is the Popen's own pid)."""
    return t.proc.pid


def sleep(s):
    time.sleep(s)
