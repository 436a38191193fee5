"""The staff desks (issue 20): the to-do centre (notices, bell, role home pages), the citizen-file page opened by
phone number, saved case filters from the case list."""
