"""The one failure a channel reports: short, and free of patient data (it is stored as last_error)."""


class DeliveryError(Exception):
    pass
