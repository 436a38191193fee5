"""The app side of routing/: the router service (model, gazetteer, tables), the routing queue and job body,
duplicates (并单), the dispatcher's workbench and pages, and the routing rules admin. dispatch depends on cases,
never the reverse.
"""
