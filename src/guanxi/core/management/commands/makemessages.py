"""``guanxi makemessages``: Django's, plus the gettext aliases the code uses where ``_`` is
taken (``_g`` in the report builders, ``_lazy`` in the audit verifier), so their strings
stay in the catalogue."""

from django.core.management.commands.makemessages import Command as MakeMessagesCommand


class Command(MakeMessagesCommand):
    xgettext_options = [*MakeMessagesCommand.xgettext_options, "--keyword=_g", "--keyword=_lazy"]
