"""Admin pages and imports for the SLA policy, the holiday table and the category → unit map (issue 17). The
deadline math stays in hotline/sla; routing reads the live map from ``categories`` as before."""
