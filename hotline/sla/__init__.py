"""The SLA clock (限时办结): pure deadline math (clock.py), the stored policy and holidays (deadlines.py), an
assignment's timers, the card sweeper, supervision (催办/督办, extensions, pauses), the monitor wall's queries and
the case page's time-limit panel and actions.
"""
