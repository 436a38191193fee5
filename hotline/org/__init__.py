"""The organisation of a city: its unit tree (city, districts, streets, communities, departments, utilities),
loaded from files and edited on admin pages and the API. ``units`` holds the rules, ``sheets`` reads CSV/XLSX,
``pages`` and ``api`` are the admin views, ``divisions`` the standard administrative divisions (cpca)."""
