"""test_docs_sync.py -- the man pages and shell completion say what --help says.

The commands of `tip help` are exactly the `## COMMAND` sections of
docs/man/tip.1.scd, in the same order, and each command's flags (from its
usage line and option lines in `tip help COMMAND`) are exactly those of its
man section; tip's global options match GLOBAL OPTIONS. tipd's options in
`tipd --help` are exactly those in docs/man/tipd.8.scd, and the ones that
are config keys are the KEYS of tipd.conf.5.scd. The completion files for
bash, zsh and fish list every command, the same command list, and every
flag. Then the completion is run for real against a running tipd: bash
(bash-completion) and fish complete commands, flags, topics and id
prefixes; the zsh file is checked for syntax (zsh -n), as zsh completion
needs a terminal to run.
"""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Daemon, check, eq, run_tests  # noqa: E402

MAN = os.path.join(harness.SRC, "docs", "man")
COMP = os.path.join(harness.SRC, "completion")
FLAG = re.compile(r"(?<![\w-])(--?[a-zA-Z][\w-]*)")


def tip_help(*args):
    harness.need_binary(harness.TIP)
    p = subprocess.run([harness.TIP, "help", *args], capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, NO_COLOR="1", PAGER="cat"))
    eq(p.returncode, 0, p.stderr)
    return p.stdout


def help_commands():
    out = tip_help()
    block = out.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return [ln.split()[0] for ln in block.splitlines()]


def help_global_flags():
    out = tip_help()
    block = out.split("Global options", 1)[1].split("\n\n", 1)[0]
    return {f for ln in block.splitlines()[1:] for f in FLAG.findall(ln.split("  ")[1]
                                                                       if ln.startswith("  ")
                                                                       else "")}


def help_flags(cmd):
    """Flags in the usage line and option lines of `tip help cmd`, globals out."""
    out = tip_help(cmd)
    own = out.split("Global options", 1)[0]
    lines = own.splitlines()
    flags = set(FLAG.findall(lines[0].split(cmd, 1)[1]))
    for ln in lines[1:]:
        m = re.match(r"^\s+((?:--?[\w-]+(?:, )?)+)", ln)
        if m:
            flags |= set(FLAG.findall(m.group(1)))
    return flags - help_global_flags()


def man_sections(text):
    """{heading: body} for the '## ' sections of an scd page."""
    parts = re.split(r"^## ", text, flags=re.M)[1:]
    return [(p.split("\n", 1)[0], p.split("\n", 1)[1].split("\n# ", 1)[0]) for p in parts]


def defined_flags(body):
    """Flags on option-definition lines (lines that start with *-)."""
    return {f for ln in body.splitlines() if ln.startswith("*-") for f in FLAG.findall(ln)}


def test_tip_man_commands_and_flags():
    text = open(os.path.join(MAN, "tip.1.scd")).read()
    secs = man_sections(text)
    eq([h.split()[0] for h, _ in secs], help_commands(), "tip.1 COMMANDS vs tip help")
    for head, body in secs:
        cmd = head.split()[0]
        man = set(FLAG.findall(head.split(" ", 1)[1] if " " in head else "")) | defined_flags(body)
        eq(sorted(man), sorted(help_flags(cmd)), "flags of tip %s: man page vs tip help" % cmd)
    glob = text.split("# GLOBAL OPTIONS", 1)[1].split("\n# ", 1)[0]
    eq(sorted(defined_flags(glob)), sorted(help_global_flags()), "global options")


def tipd_help_flags():
    rc, out, err = harness.run_tipd("--help")
    eq(rc, 0, err)
    opts = out.split("options", 1)[1]
    return {f for ln in opts.splitlines() if ln.startswith("  ")
            for f in FLAG.findall(ln.split("  ")[1])}


def test_tipd_man_options_and_conf_keys():
    text = open(os.path.join(MAN, "tipd.8.scd")).read()
    opts = text.split("# OPTIONS", 1)[1].split("\n# ", 1)[0]
    flags = tipd_help_flags()
    eq(sorted(defined_flags(opts)), sorted(flags), "tipd.8 OPTIONS vs tipd --help")
    conf = open(os.path.join(MAN, "tipd.conf.5.scd")).read()
    keys = re.findall(r"^\*([a-z-]+)\* =", conf.split("# KEYS", 1)[1], flags=re.M)
    want = sorted(f[2:] for f in flags if f.startswith("--")
                  and f not in ("--config", "--check", "--help", "--version"))
    eq(sorted(keys), want, "tipd.conf.5 KEYS vs tipd --help options")
    check("genkey" in text.split("# COMMANDS", 1)[1])


def test_completion_files_cover_everything():
    cmds = help_commands()
    bash = open(os.path.join(COMP, "tip.bash")).read()
    eq(re.search(r'local commands="([^"]*)"', bash).group(1).split(), cmds, "tip.bash commands")
    for cmd in cmds:
        m = re.search(r"^\s+%s\) flags=\"([^\"]*)\"" % cmd, bash, flags=re.M)
        got = set(m.group(1).split()) if m else set()
        eq(sorted(got), sorted(help_flags(cmd)), "tip.bash flags of", cmd)
    zsh = open(os.path.join(COMP, "_tip")).read()
    eq(re.findall(r"^\s+'(\w+):", zsh, flags=re.M), cmds, "_tip commands")
    fish = open(os.path.join(COMP, "tip.fish")).read()
    eq(re.findall(r'\$commands" -a (\w+) -d', fish), cmds, "tip.fish commands")
    eq(re.search(r"^set -l commands (.*)$", fish, flags=re.M).group(1).split(), cmds)
    for cmd in cmds:
        for f in help_flags(cmd):
            if f.startswith("--"):
                check(f in zsh, "_tip lacks", f, "of", cmd)
                check("-l %s " % f[2:] in fish, "tip.fish lacks", f, "of", cmd)
    tipd = open(os.path.join(COMP, "tipd.bash")).read() + open(os.path.join(COMP, "_tipd")).read()
    tipd_fish = open(os.path.join(COMP, "tipd.fish")).read()
    for f in tipd_help_flags():
        check(f in tipd, "tipd bash/zsh completion lacks", f)
        check(("-l %s" % f[2:] if f.startswith("--") else "-s %s" % f[1:]) in tipd_fish,
              "tipd.fish lacks", f)


def test_zsh_syntax():
    if not shutil.which("zsh"):
        raise harness.Skip("zsh is not installed")
    for f in ("_tip", "_tipd"):
        r = subprocess.run(["zsh", "-n", os.path.join(COMP, f)], capture_output=True, text=True)
        eq(r.returncode, 0, r.stderr)


BASH_DRIVER = r'''
source /usr/share/bash-completion/bash_completion
source "$1"
shift
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
read -ra COMP_WORDS <<<"$COMP_LINE"
[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_tip
printf '%s\n' "${COMPREPLY[@]}"
'''


def bash_complete(d, line, script="tip.bash"):
    env = dict(os.environ, TIP_SOCKET=d.sock, TIP_HOME=d.home(),
               PATH=harness.BIN + ":" + os.environ.get("PATH", ""))
    r = subprocess.run(["bash", "-c", BASH_DRIVER, "x", os.path.join(COMP, script), line],
                       capture_output=True, text=True, timeout=30, env=env)
    eq(r.returncode, 0, r.stderr)
    return sorted(x for x in r.stdout.split("\n") if x)


def fish_complete(d, line):
    env = dict(os.environ, TIP_SOCKET=d.sock, TIP_HOME=d.home(),
               PATH=harness.BIN + ":" + os.environ.get("PATH", ""))
    r = subprocess.run(["fish", "--no-config", "-c", "source %s; complete -C %s" %
                        (os.path.join(COMP, "tip.fish"), _fish_quote(line))],
                       capture_output=True, text=True, timeout=30, env=env)
    eq(r.returncode, 0, r.stderr)
    return sorted(x.split("\t")[0] for x in r.stdout.split("\n") if x)


def _fish_quote(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def test_completion_runs_against_tipd():
    have_bash = os.path.exists("/usr/share/bash-completion/bash_completion")
    have_fish = shutil.which("fish") is not None
    if not have_bash and not have_fish:
        raise harness.Skip("neither bash-completion nor fish is installed")
    with Daemon() as d:
        rc, out, err = d.tip("--json", "add", "-t", "printers,vpn", "Tray 2 feeds fine")
        eq(rc, 0, err)
        tip_id = __import__("json").loads(out)["id"][:8]
        rc, out, err = d.tip("--json", "ask", "--yes", "-t", "wifi", "Where is the guest wifi?")
        eq(rc, 0, err)
        q_id = __import__("json").loads(out)["id"][:8]
        if have_bash:
            eq(bash_complete(d, "tip st"), ["stats", "status"])
            eq(bash_complete(d, "tip show "), sorted([tip_id, q_id]))
            eq(bash_complete(d, "tip add -t "), ["printers", "vpn", "wifi"])
            eq(bash_complete(d, "tip add -t pr"), ["printers"])
            eq(bash_complete(d, "tip search --au"), ["--author"])
            eq(bash_complete(d, "tip --color "), ["always", "auto", "never"])
        if have_fish:
            eq(fish_complete(d, "tip st"), ["stats", "status"])
            eq(fish_complete(d, "tip rate "), sorted([tip_id, q_id]))
            eq(fish_complete(d, "tip list -t "), ["printers", "vpn", "wifi"])
            check("--history" in fish_complete(d, "tip show --"))
    # tipd gone: completing ids just offers nothing, quickly
    if have_bash:
        eq(bash_complete(d, "tip show "), [])


if __name__ == "__main__":
    run_tests(globals())
