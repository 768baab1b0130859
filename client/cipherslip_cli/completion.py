"""``slip completion bash|zsh|fish``: completion scripts written from the parser itself, so
they never fall behind the commands and options."""

from __future__ import annotations

import argparse

from cipherslip_cli.api import OK


def _commands(top: argparse.ArgumentParser) -> dict[str, list[str]]:
    """Each subcommand and its options (long forms, plus choices of positional arguments)."""
    found: dict[str, list[str]] = {}
    for action in top._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                words: list[str] = []
                for option in sub._actions:
                    words += [flag for flag in option.option_strings if flag.startswith("--")]
                    if not option.option_strings and option.choices:
                        words += [str(choice) for choice in option.choices]
                found[name] = words
    return found


def bash_script(top: argparse.ArgumentParser) -> str:
    commands = _commands(top)
    cases = "\n".join(f'        {name}) words="{" ".join(options)}" ;;'
                      for name, options in commands.items())
    return f"""# slip completion for bash: source <(slip completion bash)
_slip() {{
    local current=${{COMP_WORDS[COMP_CWORD]}} words
    if [[ $COMP_CWORD -eq 1 ]]; then
        COMPREPLY=($(compgen -W "{" ".join(commands)}" -- "$current"))
        return
    fi
    case ${{COMP_WORDS[1]}} in
{cases}
        *) words="" ;;
    esac
    if [[ $current == -* || -z $current && -n $words && ${{COMP_WORDS[1]}} == completion ]]; then
        COMPREPLY=($(compgen -W "$words" -- "$current"))
    else
        COMPREPLY=($(compgen -f -- "$current"))
    fi
}}
complete -o filenames -F _slip slip
"""


def zsh_script(top: argparse.ArgumentParser) -> str:
    return ("# slip completion for zsh: source <(slip completion zsh)\n"
            "autoload -U +X bashcompinit && bashcompinit\n" + bash_script(top))


def fish_script(top: argparse.ArgumentParser) -> str:
    lines = ["# slip completion for fish: slip completion fish | source"]
    commands = _commands(top)
    lines.append(f'complete -c slip -n __fish_use_subcommand -f -a "{" ".join(commands)}"')
    for name, options in commands.items():
        for option in options:
            if option.startswith("--"):
                lines.append(f"complete -c slip -n '__fish_seen_subcommand_from {name}' "
                             f"-l {option[2:]}")
            else:
                lines.append(f"complete -c slip -n '__fish_seen_subcommand_from {name}' "
                             f"-f -a {option}")
    return "\n".join(lines) + "\n"


def cmd_completion(args: argparse.Namespace, top: argparse.ArgumentParser) -> int:
    script = {"bash": bash_script, "zsh": zsh_script, "fish": fish_script}[args.shell](top)
    print(script, end="")
    return OK
