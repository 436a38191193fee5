"""好差评: rating invitations, ratings by link/SMS/keypad, and the 差评 rectification loop."""
