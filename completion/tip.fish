# fish completion for tip(1) -- commands, their flags, and (from the running
# tipd, when it answers within a second) topics after -t and id prefixes
# where a command takes an id. Installed as
# /usr/share/fish/vendor_completions.d/tip.fish.

function __tip_ids
    begin; timeout 1 tip --json --color never list -n 100; timeout 1 tip --json --color never list -n 100 --kind question; end 2>/dev/null | string match -r -g '"id":"([0-9a-f]{8})'
end

function __tip_topics
    begin; timeout 1 tip --json --color never list -n 100; timeout 1 tip --json --color never list -n 100 --kind question; end 2>/dev/null | string match -r -g '"topics":\[([^]]*)\]' | string replace -a '"' '' | string split , | sort -u
end

set -l commands add search show list ask answer questions rate thanks edit retract today stats whoami status peers import export help
complete -c tip -f
complete -c tip -l socket -r -F -d "tipd's API socket"
complete -c tip -l json -d 'machine output'
complete -c tip -l color -x -a 'auto always never' -d colour
complete -c tip -s h -l help -d help
complete -c tip -l version -d 'print the version'

complete -c tip -n "not __fish_seen_subcommand_from $commands" -a add -d 'share a tip'
complete -c tip -n "not __fish_seen_subcommand_from $commands" -a search -d 'find tips, best match first'
complete -c tip -n "not __fish_seen_subcommand_from $commands" -a show -d 'show one tip in full'
complete -c tip -n "not __fish_seen_subcommand_from $commands" -a list -d 'list tips, newest first'
complete -c tip -n "not __fish_seen_subcommand_from $commands" -a ask -d 'ask the office a question'
complete -c tip -n "not __fish_seen_subcommand_from $commands" -a answer -d 'answer a question'
complete -c tip -n "not __fish_seen_subcommand_from $commands" -a questions -d 'what colleagues asked'
complete -c tip -n "not __fish_seen_subcommand_from $commands" -a rate -d 'rate a tip from 1 to 5'
complete -c tip -n "not __fish_seen_subcommand_from $commands" -a thanks -d 'thank the author of a tip'
complete -c tip -n "not __fish_seen_subcommand_from $commands" -a edit -d 'change a tip you wrote'
complete -c tip -n "not __fish_seen_subcommand_from $commands" -a retract -d 'withdraw something you wrote'
complete -c tip -n "not __fish_seen_subcommand_from $commands" -a today -d 'a tip of the day'
complete -c tip -n "not __fish_seen_subcommand_from $commands" -a stats -d 'what the office learned'
complete -c tip -n "not __fish_seen_subcommand_from $commands" -a whoami -d 'show or set who you are'
complete -c tip -n "not __fish_seen_subcommand_from $commands" -a status -d 'how your tipd is doing'
complete -c tip -n "not __fish_seen_subcommand_from $commands" -a peers -d 'the other tipd nodes'
complete -c tip -n "not __fish_seen_subcommand_from $commands" -a import -d 'add tips from JSON Lines'
complete -c tip -n "not __fish_seen_subcommand_from $commands" -a export -d 'write every event as JSON Lines'
complete -c tip -n "not __fish_seen_subcommand_from $commands" -a help -d 'help for tip or a command'

# Flags of each command.
complete -c tip -n '__fish_seen_subcommand_from add ask answer edit search list' -s t -l topic -x -a '(__tip_topics)' -d topic
complete -c tip -n '__fish_seen_subcommand_from add ask answer edit' -l title -x -d title
complete -c tip -n '__fish_seen_subcommand_from add answer edit' -s f -l file -r -F -d 'read the text from FILE'
complete -c tip -n '__fish_seen_subcommand_from add' -l anon -d 'sign with a one-time key'
complete -c tip -n '__fish_seen_subcommand_from add' -l force -d 'add even if already shared'
complete -c tip -n '__fish_seen_subcommand_from add' -s y -l yes -d 'do not ask about look-alikes'
complete -c tip -n '__fish_seen_subcommand_from add' -l draft -r -F -d 'send a kept draft'
complete -c tip -n '__fish_seen_subcommand_from show' -l raw -d 'the body byte for byte'
complete -c tip -n '__fish_seen_subcommand_from show' -l cmd -d 'only the command lines'
complete -c tip -n '__fish_seen_subcommand_from import' -l own -d 'your own tips: not marked imported'
complete -c tip -n '__fish_seen_subcommand_from search list questions' -s n -x -d 'at most N'
complete -c tip -n '__fish_seen_subcommand_from search list' -l author -x -d 'only by WHO'
complete -c tip -n '__fish_seen_subcommand_from search' -l kind -x -a 'tip question' -d kind
complete -c tip -n '__fish_seen_subcommand_from list' -l kind -x -a 'tip question rating thanks retract profile' -d kind
complete -c tip -n '__fish_seen_subcommand_from show' -l history -d 'earlier versions too'
complete -c tip -n '__fish_seen_subcommand_from ask retract' -s y -l yes -d 'do not ask'
complete -c tip -n '__fish_seen_subcommand_from questions' -l open -d 'unanswered only'
complete -c tip -n '__fish_seen_subcommand_from stats' -l me -d 'what you gave and got'
complete -c tip -n '__fish_seen_subcommand_from stats' -l weeks -x -d 'weeks in the series'
complete -c tip -n '__fish_seen_subcommand_from stats' -l csv -d 'CSV rows'
complete -c tip -n '__fish_seen_subcommand_from whoami' -l name -x -d 'your display name'
complete -c tip -n '__fish_seen_subcommand_from whoami' -l team -x -d 'your team'

# Arguments: ids from tipd, files, command names.
complete -c tip -n '__fish_seen_subcommand_from show rate thanks edit retract answer' -a '(__tip_ids)' -d id
complete -c tip -n '__fish_seen_subcommand_from import export' -F
complete -c tip -n '__fish_seen_subcommand_from help' -a "$commands"
