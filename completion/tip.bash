# bash completion for tip(1) -- commands, their flags, and (from the running
# tipd, when it answers within a second) topics after -t and id prefixes
# where a command takes an id. Installed as
# /usr/share/bash-completion/completions/tip.

# The newest ids (8-character prefixes) and topics, from one cheap `list`.
_tip_ids()
{
    { timeout 1 tip --json --color never list -n 100; timeout 1 tip --json --color never list -n 100 --kind question; } 2>/dev/null |
        grep -o '"id":"[0-9a-f]*"' | cut -c7-14
}

_tip_topics()
{
    { timeout 1 tip --json --color never list -n 100; timeout 1 tip --json --color never list -n 100 --kind question; } 2>/dev/null |
        grep -o '"topics":\[[^]]*\]' | cut -c11- | tr -d '[]"' | tr ',' '\n' | sort -u
}

_tip()
{
    local cur prev words cword
    _init_completion || return

    local commands="add search show list ask answer questions rate thanks edit retract today stats whoami status peers import export help"
    local global="--socket --json --color --help --version"

    # The command is the first word that is not an option or an option's value.
    local i cmd=""
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
        --socket | --color) ((i++)) ;;
        -*) ;;
        *) cmd=${words[i]}; break ;;
        esac
    done

    case $prev in
    --socket) _filedir; return ;;
    --color) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
    -t | --topic) COMPREPLY=($(compgen -W "$(_tip_topics)" -- "$cur")); return ;;
    -f | --file) _filedir; return ;;
    --kind)
        COMPREPLY=($(compgen -W "tip question rating thanks retract profile" -- "$cur"))
        return ;;
    -n | --weeks | --title | --name | --team | --author) return ;;
    esac

    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$global" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$commands" -- "$cur"))
        fi
        return
    fi

    local flags=""
    case $cmd in
    add) flags="--topic -t --title --file -f --anon --force --yes -y --draft" ;;
    search) flags="-n --topic -t --author --kind" ;;
    show) flags="--history --raw --cmd" ;;
    list) flags="-n --topic -t --author --kind" ;;
    ask) flags="--topic -t --title --yes -y" ;;
    answer) flags="--topic -t --title --file -f" ;;
    questions) flags="--open -n" ;;
    edit) flags="--topic -t --title --file -f" ;;
    retract) flags="--yes -y" ;;
    stats) flags="--me --weeks --csv" ;;
    whoami) flags="--name --team" ;;
    import) flags="--own" ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$flags $global" -- "$cur"))
        return
    fi
    case $cmd in
    show | rate | thanks | edit | retract | answer)
        COMPREPLY=($(compgen -W "$(_tip_ids)" -- "$cur")) ;;
    import | export) _filedir ;;
    help) COMPREPLY=($(compgen -W "$commands" -- "$cur")) ;;
    esac
}
complete -F _tip tip
