# fish completion for tipd(8). Installed as
# /usr/share/fish/vendor_completions.d/tipd.fish.
complete -c tipd -f
complete -c tipd -n __fish_is_first_arg -a genkey -d 'write a new network key'
complete -c tipd -n '__fish_seen_subcommand_from genkey' -F
complete -c tipd -l config -r -F -d 'config file'
complete -c tipd -l data -r -a '(__fish_complete_directories)' -d 'data directory'
complete -c tipd -l api -r -F -d 'API socket'
complete -c tipd -l listen -x -d 'gossip endpoint'
complete -c tipd -l peer -x -d 'static peer tcp://HOST:PORT'
complete -c tipd -l no-discovery -d 'no mDNS'
complete -c tipd -l network-key -r -F -d 'network key file'
complete -c tipd -l name -x -d 'name shown to peers'
complete -c tipd -l log-level -x -a 'error warning notice info debug' -d 'log level'
complete -c tipd -s n -l check -d 'check the configuration and exit'
complete -c tipd -s h -l help -d help
complete -c tipd -s V -l version -d 'print the version'
