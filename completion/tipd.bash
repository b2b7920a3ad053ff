# bash completion for tipd(8): its options and the genkey command.
# Installed as /usr/share/bash-completion/completions/tipd.
_tipd()
{
    local cur prev words cword
    _init_completion || return
    case $prev in
    --config | --network-key | genkey) _filedir; return ;;
    --data) _filedir -d; return ;;
    --api) _filedir; return ;;
    --log-level)
        COMPREPLY=($(compgen -W "error warning notice info debug" -- "$cur"))
        return ;;
    --listen | --peer | --name) return ;;
    esac
    if [[ $cword -eq 1 && $cur != -* ]]; then
        COMPREPLY=($(compgen -W "genkey" -- "$cur"))
        return
    fi
    COMPREPLY=($(compgen -W "--config --data --api --listen --peer --no-discovery
        --network-key --name --log-level --check -n --help -h --version -V" -- "$cur"))
}
complete -F _tipd tipd
