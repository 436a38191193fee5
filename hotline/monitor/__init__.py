"""The monitor wall (/monitor) and the time-limit actions on the case page."""
