"""Every command the parser accepts has one function, and nothing else is listed."""

import argparse

from ops import cli


def test_every_command_and_action_has_exactly_one_function():
    accepted = set()
    top = cli.parser()
    commands = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in commands.choices.items():
        actions = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
        accepted |= {(name, action) for action in actions[0].choices} if actions else {(name, None)}
    assert not set(cli.OFFLINE) & set(cli.CONNECTED)
    assert accepted == set(cli.OFFLINE) | set(cli.CONNECTED)
