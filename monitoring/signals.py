"""What the judging job found, for the apps that act on it (sources opens cases).

Sent inside the judging transaction, so a receiver's writes commit or roll back with the
judgement: a failed case is judged again at the next run rather than lost.
"""

from django.dispatch import Signal

# hours: list[monitoring.judging.ExceededHour]
hours_exceeded = Signal()
# loggers: list[(logger id, silent since)]
loggers_offline = Signal()
# loggers: list[(logger id, silent since, heard again at)]
loggers_online = Signal()
