"""Internal notes on a case (内部备注) with @mentions of users or units: staff only, never shown to citizens."""
