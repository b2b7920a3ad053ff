# tip-today.sh -- a tip of the day when someone logs in (tipd, docs/SOCIAL.md).
#
# Installed (not enabled) as $PREFIX/share/tipd/profile.d/tip-today.sh; IT
# enables it for everyone with
#     ln -s /usr/share/tipd/profile.d/tip-today.sh /etc/profile.d/tip-today.sh
# It runs only in interactive shells with a terminal, never blocks a login
# (`tip today` prints nothing and exits 0 when tipd is not running, and is cut
# off after 3 seconds whatever happens), and a person can turn it off with
# TIP_TODAY=off in their environment. POSIX sh: dash, bash, zsh and ksh
# source /etc/profile.d.
case $- in
*i*)
    if [ -t 1 ] && [ "${TIP_TODAY:-on}" != off ] && command -v tip >/dev/null 2>&1; then
        if command -v timeout >/dev/null 2>&1; then
            timeout 3 tip today 2>/dev/null
        else
            tip today 2>/dev/null
        fi
    fi
    ;;
esac
true
