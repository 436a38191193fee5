"""People (issue 17): staff accounts — create, edit, disable/enable, role changes (audited), one-time passwords
and resets, bulk import (``flask users import``), the city set-up (``flask setup --city``), their admin pages and
/api/v1/users."""
