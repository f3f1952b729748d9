"""makemessages without fuzzy matching: a guess from a similar msgid is worse than none.

msgmerge's fuzzy matches look translated in the .po (and a reviewer may miss the flag), while
Django never uses them; GridGov's catalogue is written by people, entry by entry.
"""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    msgmerge_options = [*makemessages.Command.msgmerge_options, "--no-fuzzy-matching"]
