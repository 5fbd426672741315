"""Generated poker messages (protobuf package ``examples``). Regenerate with ``make proto``."""
